"""Track training runs in MLflow, register models and move the `champion` alias.

Every new model version gets the alias `challenger`. The current `champion` (if any) is scored
on the challenger's validation rows, `decide_promotion` compares the two AUCs, and `champion`
moves only when the challenger wins. The decision and both numbers are on the run (metrics and
tags) and on the model version (description and tags), so the registry explains itself.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import mlflow.data
import mlflow.sklearn
import numpy as np
import pandas as pd
import skops.io
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from sklearn.metrics import roc_auc_score

from ml.drift import drift_reference
from ml.evaluate import validation_importances, write_evaluation_plots
from ml.promotion import DEFAULT_FLOOR, DEFAULT_TOLERANCE, PromotionDecision, decide_promotion
from ml.train import MAX_TUNING_ROWS, TrainingResult, train_classifier

CHAMPION = "champion"
CHALLENGER = "challenger"
# Types a saved pipeline may reference beyond skops' defaults: our own column transforms and
# library internals. Anything else makes saving fail loudly rather than trusting it blindly.
TRUSTED_TYPE_PREFIXES = ("ml.", "sklearn.", "numpy.", "functools.partial")

_URI_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
_PROGRESS_BAR_ENV = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
_log = logging.getLogger(__name__)

ChampionEvaluator = Callable[[Any, pd.DataFrame, pd.Series], float]


@dataclass
class RegistrationResult:
    run_id: str
    model_name: str
    model_version: str
    promoted: bool
    decision: PromotionDecision
    metrics: dict[str, float]
    plot_paths: dict[str, str]
    training: TrainingResult = field(repr=False)
    # The PNG bytes of the plots as logged, so callers can show them without downloading
    # them back from the artifact store.
    plot_images: dict[str, bytes] = field(default_factory=dict, repr=False)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///...` URI, else None."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    # sqlite:///relative.db and sqlite:////abs/path.db: the path follows the third slash.
    return Path(uri[len("sqlite:///") :])


def artifact_root(uri: str) -> str | None:
    """Where artifacts of a SQLite-backed store live: `<db dir>/artifacts`."""
    path = sqlite_path(uri)
    return None if path is None else str((path.parent / "artifacts").resolve())


def ensure_tracking_store(uri: str) -> str | None:
    """Create the SQLite store (running MLflow's migrations) and its artifact directory.

    Call once before several processes write: concurrent first-time migrations race.
    Returns the artifact root (None for non-SQLite stores, which need no preparation).
    """
    path = sqlite_path(uri)
    root = artifact_root(uri)
    if path is not None and root is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(root).mkdir(parents=True, exist_ok=True)
    with _quiet_mlflow():
        mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()
    return root


def client_for(uri: str) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def get_or_create_experiment(uri: str, name: str) -> str:
    """Experiment id by name; new experiments put artifacts under the store's artifact root."""
    client = client_for(uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    root = artifact_root(uri)
    location = None if root is None else Path(root, name.replace("/", "_")).as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:
        # Another process created it between our lookup and create.
        existing = client.get_experiment_by_name(name)
        if existing is None:
            raise
        return existing.experiment_id


@contextlib.contextmanager
def _tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (runs, log_model, models:/ URIs) at `uri` for the block.

    MLflow keeps these URIs in module globals and mirrors them into environment variables;
    both are put back afterwards so the caller's own MLflow configuration is untouched.
    """
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = (
        tracking_utils._tracking_uri,
        registry_utils._registry_uri,
        {k: os.environ.get(k) for k in _URI_ENV_VARS},
    )
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved[0])
        registry_utils._registry_uri = saved[1]
        for key, value in saved[2].items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """No artifact progress bars, registry chatter or MLflow-internal warnings for the block.

    MLflow prints a tqdm bar for every artifact it downloads (each model load) and
    "Successfully registered model ..." on stderr for every registration; neither tells a
    user anything to act on. The bar is switched off through MLflow's own setting, read at
    call time; the registry lines go to this module's logger instead.
    """
    saved = os.environ.get(_PROGRESS_BAR_ENV)
    os.environ[_PROGRESS_BAR_ENV] = "false"
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stderr(chatter), warnings.catch_warnings():
            # Deprecations inside MLflow's own code (SQLAlchemy, pandas 3) and pandas'
            # time-zone notice when MLflow hashes a data set: nothing the user can change.
            warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
            warnings.filterwarnings("ignore", message=r"Series\.values returning an ndarray")
            yield
    finally:
        if saved is None:
            os.environ.pop(_PROGRESS_BAR_ENV, None)
        else:
            os.environ[_PROGRESS_BAR_ENV] = saved
        for line in chatter.getvalue().splitlines():
            if line.strip():
                _log.info(line)


def trusted_types(pipeline: Any) -> list[str]:
    """Types skops must be told to trust to load this pipeline back; refuses unknown ones."""
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
    unknown = [t for t in untrusted if not t.startswith(TRUSTED_TYPE_PREFIXES)]
    if unknown:
        raise ValueError(f"pipeline references types outside the trusted list: {unknown}")
    return untrusted


def model_requirements() -> list[str]:
    """Pinned versions of what the saved pipeline needs to load and predict."""
    packages = ("scikit-learn", "skops", "numpy", "pandas", "scipy", "matplotlib")
    return [f"{name}=={importlib.metadata.version(name)}" for name in packages]


def champion_version(uri: str, model_name: str) -> Any | None:
    try:
        with _quiet_mlflow():
            return client_for(uri).get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None  # no such model yet, or no champion alias


def load_champion(model_name: str, tracking_uri: str) -> Any:
    """The scikit-learn pipeline behind `models:/<name>@champion`."""
    with _tracking_uri(tracking_uri), _quiet_mlflow():
        return mlflow.sklearn.load_model(f"models:/{model_name}@{CHAMPION}")


DRIFT_REFERENCE_ARTIFACT = "drift/reference.json"


def training_drift_reference(
    frame: pd.DataFrame,
    result: TrainingResult,
    importances: pd.DataFrame,
    time_column: str | None = None,
) -> dict[str, Any]:
    """`ml.drift.drift_reference` of the training window's latest cross-section: the labelled
    rows of the last `time_column` value (all labelled rows without one), with the run's
    permutation importances (drop in validation AUC).

    One snapshot, because a scored day is one snapshot: the pooled window mixes months of a
    growing, ageing population, and every age-like feature (days since first seen, tenure)
    of any later day differs from that mixture (docs/models.md, "Drift gate").
    """
    kinds = {c: "numeric" for c in result.feature_columns.numeric} | {
        c: "categorical" for c in result.feature_columns.categorical
    }
    fitted_on = frame.loc[frame[result.label].notna()]
    if time_column:
        times = pd.to_datetime(fitted_on[time_column])
        fitted_on = fitted_on.loc[(times == times.max()).to_numpy()]
    reference = drift_reference(
        fitted_on,
        kinds,
        dict(zip(importances["feature"], importances["importance_mean"], strict=True)),
    )
    reference["snapshot"] = str(times.max().date()) if time_column else ""
    return reference


def load_drift_reference(tracking_uri: str, model_name: str) -> tuple[str, dict | None] | None:
    """(version, drift reference) of `<model_name>@champion`; None without a champion, and a
    None reference for a champion trained before references were saved."""
    version = champion_version(tracking_uri, model_name)
    if version is None:
        return None
    try:
        with _tracking_uri(tracking_uri), _quiet_mlflow():
            reference = mlflow.artifacts.load_dict(
                f"runs:/{version.run_id}/{DRIFT_REFERENCE_ARTIFACT}"
            )
    except (MlflowException, OSError):
        reference = None
    return str(version.version), reference


def roc_auc_of(model: Any, features: pd.DataFrame, y_true: pd.Series) -> float:
    """Default champion evaluator: ROC AUC of `model.predict_proba` on the given rows."""
    return float(roc_auc_score(y_true, model.predict_proba(features)[:, 1]))


# A fair comparison needs rows the champion has not been trained on; below this many the
# champion's own recorded validation AUC is used instead.
MIN_OUT_OF_TIME_ROWS = 200
TRAINED_THROUGH_TAG = "trained_through"


@dataclass(frozen=True)
class ChampionComparison:
    champion_auc: float | None
    challenger_auc: float
    champion_version: str | None
    basis: str  # how the two numbers were obtained
    error: str | None = None


def _evaluate_champion(
    uri: str,
    model_name: str,
    features: pd.DataFrame,
    y_true: pd.Series,
    y_challenger: np.ndarray,
    times: pd.Series | None,
    evaluator: ChampionEvaluator,
) -> ChampionComparison:
    """Champion and challenger AUC on the same rows the champion never saw.

    The champion was refitted on all labelled rows up to its training date, so scoring it on
    the challenger's validation rows would be partly in-sample and flatter it. Both models
    are therefore compared on the validation rows after the champion's `trained_through`
    date; when there are too few (a retrain on the same data), each model's own
    out-of-sample validation AUC is compared instead. A champion that cannot be evaluated
    (e.g. a column it needs is gone) does not block a working challenger.
    """
    challenger_all = float(roc_auc_score(y_true, y_challenger))
    version = champion_version(uri, model_name)
    if version is None:
        return ChampionComparison(None, challenger_all, None, "no champion")
    client = client_for(uri)
    try:
        champion_run = client.get_run(version.run_id)
        trained_through = champion_run.data.tags.get(TRAINED_THROUGH_TAG)
        if times is not None and trained_through:
            unseen = (pd.to_datetime(times) > pd.Timestamp(trained_through)).to_numpy()
            y_unseen = y_true[unseen]
            if unseen.sum() >= MIN_OUT_OF_TIME_ROWS and y_unseen.nunique() == 2:
                with _tracking_uri(uri), _quiet_mlflow():
                    model = mlflow.sklearn.load_model(f"models:/{model_name}/{version.version}")
                return ChampionComparison(
                    evaluator(model, features[unseen], y_unseen),
                    float(roc_auc_score(y_unseen, y_challenger[unseen])),
                    version.version,
                    f"both scored on {int(unseen.sum())} validation rows after {trained_through}",
                )
        recorded = champion_run.data.metrics.get("validation_roc_auc")
        return ChampionComparison(
            recorded,
            challenger_all,
            version.version,
            "each model's own out-of-sample validation AUC (no unseen rows to share)",
        )
    except Exception as error:
        return ChampionComparison(
            None,
            challenger_all,
            version.version,
            "champion not evaluable",
            f"{type(error).__name__}: {error}",
        )


def _log_datasets(frame: pd.DataFrame, result: TrainingResult) -> None:
    valid_mask = frame.index.isin(result.validation_index)
    labelled = frame[result.label].notna().to_numpy()
    for context, rows in (
        ("training", frame.loc[labelled & ~valid_mask]),
        ("validation", frame.loc[valid_mask]),
    ):
        dataset = mlflow.data.from_pandas(
            rows, targets=result.label, name=f"{result.label}_{context}"
        )
        mlflow.log_input(dataset, context=context)


# A text value appears in the input example only when at least this many rows share it (a
# segment, a plan), so that no identifier or rare value of one person is ever logged.
EXAMPLE_MIN_SHARED_ROWS = 20


def synthetic_example(frame: pd.DataFrame, id_columns: Sequence[str] = ()) -> pd.DataFrame:
    """One made-up input row for MLflow's input example and signature: the median of each
    numeric and time column, the most frequent value of each other column when it is shared
    by `EXAMPLE_MIN_SHARED_ROWS` rows or more, else a placeholder; ids are placeholders.

    MLflow keeps input examples as artifacts for as long as the model version lives, beyond
    any erasure request, so they never hold a person's row or id (issue 12, docs/privacy.md).
    Column order and dtypes are the frame's, so the signature is the same as from real rows.
    """
    values: dict[str, Any] = {}
    for column in frame.columns:
        series = frame[column]
        placeholder = f"example_{column}"
        if column in id_columns:
            values[column] = placeholder
        elif pd.api.types.is_bool_dtype(series):
            values[column] = bool(series.mean() >= 0.5) if series.notna().any() else None
        elif pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            values[column] = series.median() if series.notna().any() else None
        else:
            counts = series.value_counts()
            shared = not counts.empty and counts.iloc[0] >= EXAMPLE_MIN_SHARED_ROWS
            values[column] = counts.index[0] if shared else placeholder
    example = pd.DataFrame({column: [value] for column, value in values.items()})
    for column in frame.columns:
        if column in id_columns:
            continue
        with contextlib.suppress(TypeError, ValueError):
            # Integer columns get a rounded median; nullable and extension dtypes stay.
            if pd.api.types.is_integer_dtype(frame[column].dtype):
                example[column] = example[column].round()
            example[column] = example[column].astype(frame[column].dtype)
    return example


INPUT_EXAMPLE_FILES = ("input_example.json", "serving_input_example.json")


def _made_up_row(frame: pd.DataFrame) -> list[Any]:
    """One row from a logged example's rows: `*_id` columns become placeholders, numbers and
    ISO times their median, text its value only when every row shares it."""
    row: list[Any] = []
    for column in frame.columns:
        series = frame[column].dropna()
        placeholder = f"example_{column}"
        if column.endswith("_id") or series.empty:
            row.append(placeholder if column.endswith("_id") else None)
        elif pd.api.types.is_bool_dtype(series):
            row.append(bool(series.mean() >= 0.5))
        elif pd.api.types.is_numeric_dtype(series):
            row.append(float(series.median()))
        else:
            times = pd.to_datetime(series, errors="coerce", format="ISO8601")
            if times.notna().all():
                row.append(times.median().isoformat())
            else:
                row.append(series.iloc[0] if series.nunique() == 1 else placeholder)
    return row


def scrub_input_examples(artifact_root: str | Path) -> list[Path]:
    """Rewrite the input examples of models logged before examples were made up (they hold up
    to five real feature rows, ids included) as one made-up row; returns the files rewritten.

    Input examples live as long as their model version, so an erasure request cannot reach
    them otherwise (docs/privacy.md). Idempotent: a one-row example whose ids are placeholders
    is left as it is. Each file is replaced atomically.
    """
    rewritten: list[Path] = []
    for path in sorted(Path(artifact_root).rglob("*.json")):
        if path.name not in INPUT_EXAMPLE_FILES:
            continue
        document = json.loads(path.read_text())
        split = document.get("dataframe_split", document) if isinstance(document, dict) else None
        if not isinstance(split, dict) or not {"columns", "data"} <= split.keys():
            continue
        frame = pd.DataFrame(split["data"], columns=split["columns"])
        ids = [c for c in frame.columns if c.endswith("_id")]
        if len(frame) <= 1 and all((frame[c] == f"example_{c}").all() for c in ids):
            continue
        split["data"] = [_made_up_row(frame)]
        split.pop("index", None)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(document))
        temporary.replace(path)
        rewritten.append(path)
    return rewritten


def _loggable_metrics(metrics: dict[str, float], prefix: str = "") -> dict[str, float]:
    return {f"{prefix}{k}": float(v) for k, v in metrics.items() if np.isfinite(v)}


def train_and_register(
    frame: pd.DataFrame,
    label: str,
    model_name: str,
    *,
    tracking_uri: str,
    experiment_name: str,
    time_column: str | None = None,
    id_columns: Sequence[str] = (),
    exclude_columns: Sequence[str] = (),
    label_end_column: str | None = None,
    eval_champion: ChampionEvaluator | None = None,
    floor: float = DEFAULT_FLOOR,
    tolerance: float = DEFAULT_TOLERANCE,
    random_state: int = 0,
    tags: dict[str, str] | None = None,
    max_tuning_rows: int | None = MAX_TUNING_ROWS,
) -> RegistrationResult:
    """Train on `frame`, log everything to MLflow, register the model and decide promotion.

    `eval_champion(model, features, y_true) -> auc` scores the current champion on the
    challenger's validation rows (default: ROC AUC of predict_proba). Note the champion may
    have been trained on some of those rows, which can only flatter it: promotion errs on the
    side of keeping the incumbent.
    """
    ensure_tracking_store(tracking_uri)
    experiment_id = get_or_create_experiment(tracking_uri, experiment_name)
    result = train_classifier(
        frame,
        label,
        time_column=time_column,
        id_columns=id_columns,
        exclude_columns=exclude_columns,
        label_end_column=label_end_column,
        random_state=random_state,
        max_tuning_rows=max_tuning_rows,
    )
    valid_rows = frame.loc[result.validation_index]
    valid_features = valid_rows.drop(columns=[label])
    valid_truth = result.validation["y_true"]
    comparison = _evaluate_champion(
        tracking_uri,
        model_name,
        valid_features,
        valid_truth,
        result.validation["y_score"].to_numpy(),
        valid_rows[time_column] if time_column else None,
        eval_champion or roc_auc_of,
    )
    champion_auc, champion_ver = comparison.champion_auc, comparison.champion_version
    champion_error = comparison.error
    # The floor applies to the challenger's full validation AUC; the comparison with the
    # champion uses the two numbers computed on a common basis.
    decision = decide_promotion(result.metrics["roc_auc"], None, floor=floor)
    if decision.promote and champion_auc is not None:
        decision = decide_promotion(
            comparison.challenger_auc, champion_auc, floor=0.0, tolerance=tolerance
        )
    input_frame = frame.drop(columns=[label])
    # The signature is for pyfunc users (schema enforcement); in-project scoring loads the
    # sklearn flavour (`load_champion`), which takes any frame the pipeline can coerce. The
    # example is made up from the frame's medians and common values: no person's row.
    example = synthetic_example(input_frame, id_columns=id_columns)
    with _quiet_mlflow():
        signature = infer_signature(example, result.pipeline.predict_proba(example))

    client = client_for(tracking_uri)
    with (
        _tracking_uri(tracking_uri),
        _quiet_mlflow(),
        mlflow.start_run(experiment_id=experiment_id, tags=tags) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.log_params(
            {
                **result.params,
                "label": label,
                "time_column": time_column or "",
                "id_columns": ",".join(id_columns),
                "excluded_columns": ",".join(
                    f"{c}:{why}" for c, why in result.feature_columns.excluded.items()
                )[:6000],
                "promotion_floor": floor,
                "promotion_tolerance": tolerance,
            }
        )
        mlflow.log_metrics(_loggable_metrics(result.metrics, "validation_"))
        for family, candidate in result.candidates.items():
            mlflow.log_metrics(_loggable_metrics({"roc_auc": candidate["roc_auc"]}, f"{family}_"))
        _log_datasets(frame, result)
        importances = validation_importances(result, valid_rows)
        plots = write_evaluation_plots(result, valid_rows, Path(tmp) / "plots", importances)
        # The training window's distribution per feature, for the drift gate before scoring.
        mlflow.log_dict(
            training_drift_reference(frame, result, importances, time_column),
            DRIFT_REFERENCE_ARTIFACT,
        )
        mlflow.log_artifacts(str(Path(tmp) / "plots"), artifact_path="plots")
        info = mlflow.sklearn.log_model(
            result.pipeline,
            name="model",
            signature=signature,
            input_example=example,
            registered_model_name=model_name,
            pyfunc_predict_fn="predict_proba",
            skops_trusted_types=trusted_types(result.pipeline),
            # Stated rather than inferred: inference loads the model in a subprocess (slow).
            pip_requirements=model_requirements(),
        )
        version = str(info.registered_model_version)
        mlflow.log_metrics(
            {"challenger_auc": decision.challenger_auc, "promoted": float(decision.promote)}
        )
        if champion_auc is not None:
            mlflow.log_metric("champion_auc", champion_auc)
        mlflow.set_tags(
            {
                "model_name": model_name,
                # The last time value the refitted model learned from: later rows are unseen.
                TRAINED_THROUGH_TAG: str(frame[time_column].max()) if time_column else "",
                "model_version": version,
                "promotion_decision": "promoted" if decision.promote else "not promoted",
                "promotion_reason": decision.reason,
                "champion_version_compared": champion_ver or "",
                "promotion_basis": comparison.basis,
                "champion_eval_error": champion_error or "",
            }
        )
        run_id = run.info.run_id
        plot_paths = {name: f"plots/{path.name}" for name, path in plots.items()}
        plot_images = {name: path.read_bytes() for name, path in plots.items()}

    client.set_registered_model_alias(model_name, CHALLENGER, version)
    if decision.promote:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    client.update_model_version(
        model_name,
        version,
        description=(
            f"{'Promoted' if decision.promote else 'Not promoted'}: {decision.reason} "
            f"({comparison.basis})"
        ),
    )
    client.set_model_version_tag(
        model_name, version, "challenger_auc", f"{decision.challenger_auc:.6f}"
    )
    client.set_model_version_tag(
        model_name,
        version,
        "champion_auc",
        "" if champion_auc is None else f"{champion_auc:.6f}",
    )
    client.set_model_version_tag(model_name, version, "promoted", str(decision.promote).lower())
    return RegistrationResult(
        run_id=run_id,
        model_name=model_name,
        model_version=version,
        promoted=decision.promote,
        decision=decision,
        metrics=result.metrics,
        plot_paths=plot_paths,
        training=result,
        plot_images=plot_images,
    )
