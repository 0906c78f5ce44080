"""MLflow tracking and registry on a real SQLite store: aliases follow the promotion rule."""

import mlflow
import numpy as np
import pytest

from ml.score import score_frame
from ml.synthetic import make_customer_frame
from ml.tracking import (
    CHALLENGER,
    CHAMPION,
    client_for,
    ensure_tracking_store,
    load_champion,
    roc_auc_of,
    train_and_register,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'store' / 'mlflow.db'}"
    artifacts = ensure_tracking_store(uri)
    return uri, root, artifacts


def test_ensure_tracking_store_creates_db_and_artifact_dir(store):
    uri, root, artifacts = store
    assert (root / "store" / "mlflow.db").is_file()
    assert artifacts == str((root / "store" / "artifacts").resolve())
    # Idempotent: a second call on a migrated store is harmless.
    assert ensure_tracking_store(uri) == artifacts


def test_train_twice_champion_kept_when_challenger_is_worse(store):
    uri, _, artifacts = store
    frame = make_customer_frame(n_customers=400, n_snapshots=5, positive_rate=0.1, seed=3)
    tracking_before = mlflow.get_tracking_uri()
    common = dict(
        tracking_uri=uri,
        experiment_name="churn-test",
        time_column="snapshot_date",
        id_columns=["customer_id"],
    )
    first = train_and_register(frame, "churned", "churn_model", **common)
    assert first.promoted
    assert first.model_version == "1"
    assert "no champion" in first.decision.reason
    assert mlflow.get_tracking_uri() == tracking_before  # global MLflow state is restored

    client = client_for(uri)
    assert str(client.get_model_version_by_alias("churn_model", CHAMPION).version) == "1"
    assert str(client.get_model_version_by_alias("churn_model", CHALLENGER).version) == "1"

    # Without its main driver the second model is clearly worse: it must not be promoted.
    # A low floor makes the comparison with the champion (not the floor) decide.
    seen_rows = []

    def champion_auc(model, features, y_true):
        seen_rows.append(len(features))
        return roc_auc_of(model, features, y_true)

    second = train_and_register(
        frame,
        "churned",
        "churn_model",
        exclude_columns=["sessions_drop"],
        eval_champion=champion_auc,
        floor=0.5,
        **common,
    )
    assert second.model_version == "2"
    assert not second.promoted
    assert "worse than champion" in second.decision.reason
    # Same data: the champion has seen every validation row (it was refitted on all rows), so
    # the two models' own out-of-sample validation AUCs are compared, not the in-sample one.
    assert seen_rows == []
    run = client.get_run(second.run_id)
    assert "own out-of-sample" in run.data.tags["promotion_basis"]
    assert run.data.metrics["champion_auc"] == pytest.approx(
        client.get_run(first.run_id).data.metrics["validation_roc_auc"]
    )

    assert second.decision.champion_auc is not None
    assert second.decision.champion_auc > second.decision.challenger_auc
    assert str(client.get_model_version_by_alias("churn_model", CHAMPION).version) == "1"
    assert str(client.get_model_version_by_alias("churn_model", CHALLENGER).version) == "2"

    run = client.get_run(second.run_id)
    assert run.data.metrics["promoted"] == 0.0
    assert run.data.metrics["champion_auc"] == pytest.approx(second.decision.champion_auc)
    assert run.data.metrics["challenger_auc"] == pytest.approx(second.metrics["roc_auc"])
    assert run.data.metrics["validation_roc_auc"] == pytest.approx(second.metrics["roc_auc"])
    assert run.data.tags["promotion_decision"] == "not promoted"
    assert run.data.params["model_family"] == second.training.model_family
    assert run.info.artifact_uri.startswith(f"file://{artifacts}")
    contexts = sorted(
        tag.value
        for i in run.inputs.dataset_inputs
        for tag in i.tags
        if tag.key == "mlflow.data.context"
    )
    assert contexts == ["training", "validation"]
    artifacts_logged = {f.path for f in client.list_artifacts(second.run_id, "plots")}
    assert artifacts_logged == set(second.plot_paths.values())
    version = client.get_model_version("churn_model", "2")
    assert version.description.startswith("Not promoted")
    assert version.tags["promoted"] == "false"

    champion = load_champion("churn_model", uri)
    features = frame.drop(columns=["churned"]).head(20)
    np.testing.assert_allclose(
        champion.predict_proba(features), first.training.pipeline.predict_proba(features)
    )
    # Reason codes work on the loaded model alone: training medians/modes travel with it.
    assert champion.reference_values_ == first.training.reference_values
    scored = score_frame(champion, features, id_columns=["customer_id"])
    assert scored["reason_1"].notna().any()
    # The pyfunc flavour predicts probabilities too (pyfunc_predict_fn="predict_proba").
    client_uri_model = f"models:/churn_model/{first.model_version}"
    mlflow.set_tracking_uri(uri)
    try:
        pyfunc = mlflow.pyfunc.load_model(client_uri_model)
        np.testing.assert_allclose(
            np.asarray(pyfunc.predict(features)), champion.predict_proba(features)
        )
    finally:
        mlflow.set_tracking_uri(tracking_before)


def test_champion_is_compared_on_rows_it_never_saw(store):
    """A retrain on later data scores the champion only on validation rows after the last
    date the champion was trained on, and the challenger on the same rows."""
    uri, _, _ = store
    frame = make_customer_frame(n_customers=400, n_snapshots=6, positive_rate=0.1, seed=5)
    dates = sorted(frame["snapshot_date"].unique())
    common = dict(
        tracking_uri=uri,
        experiment_name="churn-later",
        time_column="snapshot_date",
        id_columns=["customer_id"],
        floor=0.5,
    )
    earlier = frame[frame["snapshot_date"] <= dates[3]]
    first = train_and_register(earlier, "churned", "later_model", **common)
    assert first.promoted
    seen = []

    def champion_auc(model, features, y_true):
        seen.append(features["snapshot_date"].min())
        return roc_auc_of(model, features, y_true)

    second = train_and_register(
        frame, "churned", "later_model", eval_champion=champion_auc, **common
    )
    assert len(seen) == 1 and seen[0] > dates[3]
    basis = client_for(uri).get_run(second.run_id).data.tags["promotion_basis"]
    assert basis.startswith("both scored on")
