"""Holdout groups: which customers are withheld from their next best action, and how the
scores record it (docs/models.md "Holdouts and uplift"). The uplift mart's arithmetic is a
dbt unit test (dbt_project/models/marts/uplift/_uplift.yml), run here on the demo."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.actions import (
    ACTION_RULES,
    DEFAULT_HOLDOUT_SHARE,
    HOLDOUT_ACTION,
    NON_ACTIONS,
    apply_holdouts,
    holdout_share,
    is_holdout,
)
from ml.features import infer_feature_columns
from ml.train import build_pipeline
from orchestration.demo import generate
from orchestration.demo.generator import read_treatments
from orchestration.ml.assets import SCORES_TABLE, Champion, score_snapshot, write_scores
from orchestration.ml.specs import NON_FEATURE_COLUMNS, PURCHASE_PROPENSITY
from tests.conftest import DemoPipeline, dbt_test_on_demo

IDS = pd.Series([f"cust-{i:05d}" for i in range(10_000)])
ACTIONS = [rule.action for rule in ACTION_RULES if rule.action not in NON_ACTIONS]


@pytest.mark.parametrize("action", ACTIONS)
def test_holdout_share_is_about_ten_percent_per_action(action):
    held = apply_holdouts(IDS, pd.Series([action] * len(IDS)), DEFAULT_HOLDOUT_SHARE)
    # Binomial(10,000, 0.1): standard deviation 30, so ±120 is 4 sigma.
    assert abs(int(held["is_holdout"].sum()) - 1_000) <= 120
    assert (held.loc[held["is_holdout"], "next_best_action"] == HOLDOUT_ACTION).all()
    assert (held.loc[~held["is_holdout"], "next_best_action"] == action).all()
    assert (held["intended_action"] == action).all()


def test_holdout_is_deterministic_and_independent_between_actions():
    first = [is_holdout(c, "retention_offer_email", 0.1) for c in IDS]
    again = [is_holdout(c, "retention_offer_email", 0.1) for c in IDS]
    other = [is_holdout(c, "sales_follow_up", 0.1) for c in IDS]
    assert first == again
    # Independent assignments overlap in about 1 % of customers, not in 10 %.
    both = sum(a and b for a, b in zip(first, other, strict=True))
    assert 50 <= both <= 160


# sha256("cust-00000:customer_success_outreach") etc.: a change of the hash (e.g. to Python's
# per-process salted hash()) would move customers between groups mid-experiment.
PINNED_OUTREACH_HOLDOUTS = [
    "cust-00000", "cust-00001", "cust-00006", "cust-00028", "cust-00031", "cust-00033",
    "cust-00034", "cust-00040", "cust-00079", "cust-00086", "cust-00102", "cust-00112",
    "cust-00114", "cust-00127", "cust-00134", "cust-00135", "cust-00143", "cust-00171",
    "cust-00175",
]  # fmt: skip


def test_holdout_assignment_is_pinned():
    held = [c for c in IDS[:200] if is_holdout(c, "customer_success_outreach", 0.1)]
    assert held == PINNED_OUTREACH_HOLDOUTS


def test_non_actions_are_never_held_out():
    actions = pd.Series(["no_action", "no_marketing_contact", None] * 3_000)
    held = apply_holdouts(pd.Series(range(len(actions))).astype(str), actions, 0.5)
    assert not held["is_holdout"].any()
    assert held["next_best_action"].equals(actions)


def test_share_setting_is_honoured():
    assert holdout_share(None) == DEFAULT_HOLDOUT_SHARE == 0.1
    assert holdout_share(" ") == 0.1
    assert holdout_share("0.25") == 0.25
    assert holdout_share("0") == 0.0
    held = apply_holdouts(IDS, pd.Series(["upsell_review"] * len(IDS)), holdout_share("0.25"))
    assert abs(int(held["is_holdout"].sum()) - 2_500) <= 180
    off = apply_holdouts(IDS, pd.Series(["upsell_review"] * len(IDS)), holdout_share("0"))
    assert not off["is_holdout"].any()
    # Smaller shares hold out a subset of the larger ones' customers (same buckets).
    small = apply_holdouts(IDS, pd.Series(["upsell_review"] * len(IDS)), 0.05)["is_holdout"]
    assert not (small & ~held["is_holdout"]).any()
    for bad in ("ten", "-0.1", "1", "1.5"):
        with pytest.raises(ValueError, match="JOURNEY_HOLDOUT_SHARE"):
            holdout_share(bad)


# --- scoring writes the holdout columns ---------------------------------------------------

SCORE_DAY = date(2026, 3, 1)


def lead_features(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """One snapshot of leads shaped like marts.customer_features (the columns read)."""
    rng = np.random.default_rng(seed)
    views = rng.poisson(2, n)
    return pd.DataFrame(
        {
            "customer_snapshot_id": [f"lead-{i}" for i in range(n)],
            "customer_id": [f"lead-{i}" for i in range(n)],
            "snapshot_date": SCORE_DAY,
            "pricing_page_views_last_30d": views.astype(float),
            "sessions_last_30d": rng.poisson(5, n).astype(float),
            "paid_orders_to_date": 0.0,
            "is_customer_at_snapshot": False,
            "plan": None,
            "mrr": 0.0,
            "segment": "smb",
            "tenure_days": np.nan,
            "purchased_within_14d": rng.random(n) < 1 / (1 + np.exp(3 - 1.2 * views)),
        }
    )


def test_scores_record_intended_action_and_holdout(tmp_path, monkeypatch):
    features = lead_features()
    columns = infer_feature_columns(
        features,
        "purchased_within_14d",
        id_columns=["customer_id"],
        exclude_columns=[c for c in NON_FEATURE_COLUMNS if c in features.columns],
    )
    pipeline = build_pipeline("logistic_regression", columns)
    pipeline.fit(features, features["purchased_within_14d"])
    champion = Champion(PURCHASE_PROPENSITY, "1", pipeline)
    monkeypatch.setenv("JOURNEY_HOLDOUT_SHARE", "0.2")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.register("features", features)
        con.execute("create table marts.customer_features as select * from features")
        # A table scored before holdouts existed: the writer adds the columns in place.
        con.execute(
            f"create table {SCORES_TABLE} (customer_id varchar not null, score_date date not null,"
            " feature_snapshot_date date not null, churn_probability double,"
            " churn_risk_band varchar, purchase_propensity double, propensity_band varchar,"
            " churn_model_version varchar, propensity_model_version varchar,"
            " top_reasons varchar, next_best_action varchar not null,"
            " scored_at timestamptz not null)"
        )
        consent = pd.DataFrame({"customer_id": features["customer_id"], "marketing_consent": True})
        scores, snapshot = score_snapshot(
            con, SCORE_DAY, {PURCHASE_PROPENSITY.model_name: champion}, consent
        )
        write_scores(con, scores, SCORE_DAY)
        written = con.execute(
            f"select customer_id, next_best_action, intended_action, is_holdout from {SCORES_TABLE}"
        ).df()
    assert snapshot == SCORE_DAY
    assert len(written) == len(features)
    acting = written[~written["intended_action"].isin(NON_ACTIONS)]
    assert len(acting) >= 100  # the leads the rules act on (sales follow-up, nurture)
    held = written[written["is_holdout"]]
    assert 0.1 <= len(held) / len(acting) <= 0.3
    assert (held["next_best_action"] == HOLDOUT_ACTION).all()
    assert set(held["intended_action"]) <= {"sales_follow_up", "nurture_campaign"}
    treated = written[~written["is_holdout"]]
    assert (treated["next_best_action"] == treated["intended_action"]).all()
    expected = [
        is_holdout(c, a, 0.2)
        for c, a in zip(written["customer_id"], written["intended_action"], strict=True)
    ]
    assert written["is_holdout"].tolist() == expected


# --- the generator's known treatment effect ------------------------------------------------

SMALL_DEMO = {"people": 400, "days": 75, "seed": 7, "start": "2026-01-01"}
TREATED_ON = "2026-02-20"


def _people(truth) -> dict[str, list[str]]:
    with (truth / "people.csv").open(encoding="utf-8") as f:
        return {row[0]: row for row in csv.reader(f)}


def test_treatments_change_only_the_treated_people_from_the_treatment_day(tmp_path):
    base = tmp_path / "base"
    generate(base / "landing", base / "truth", **SMALL_DEMO)
    people = _people(base / "truth")
    # Every customer paying on TREATED_ON is treated against churn from the next day.
    customers = [
        p for p, row in people.items()
        if row[4] and row[4][:10] <= TREATED_ON and not (row[5] and row[5][:10] <= TREATED_ON)
    ]  # fmt: skip
    assert len(customers) >= 20
    untreated = customers[0]
    path = tmp_path / "treatments.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["person_id", "day", "action", "hazard", "treated"])
        for person in customers:
            treated = person != untreated
            writer.writerow([person, TREATED_ON, "retention_offer_email", "churn", treated])
    treated_run = tmp_path / "treated"
    generate(treated_run / "landing", treated_run / "truth", **SMALL_DEMO, treatments=path)
    after = _people(treated_run / "truth")
    changed = {p for p in people if people[p] != after[p]}
    assert changed <= set(customers) - {untreated}

    def p_churn(truth) -> dict[tuple[str, str], str]:
        with (truth / "probabilities.csv").open(encoding="utf-8") as f:
            return {(r["person_id"], r["as_of_date"]): r["p_churn_30d"] for r in csv.DictReader(f)}

    # The true 30-day churn probability after the treatment day: lower for the treated only.
    truth_before, truth_after = p_churn(base / "truth"), p_churn(treated_run / "truth")
    later = [k for k in truth_before if k[1] > TREATED_ON and k in truth_after]
    lowered = {
        k[0] for k in later if truth_before[k] and float(truth_after[k]) < float(truth_before[k])
    }
    assert lowered and lowered <= set(customers) - {untreated}
    assert all(truth_after[k] == truth_before[k] for k in later if k[0] not in customers)
    # Nothing before the treatment day differs (the treatment draws no random numbers).
    for source in ("orders", "subscriptions", "web_events"):
        for day in range(51):  # 2026-01-01 .. TREATED_ON
            name = str(date(2026, 1, 1) + timedelta(days=day))
            (before,) = (base / "landing" / source).glob(f"{name}.*")
            (now,) = (treated_run / "landing" / source).glob(f"{name}.*")
            assert before.read_bytes() == now.read_bytes(), f"{source} {name}"
    churned = sum(bool(people[p][5]) for p in customers if p != untreated)
    churned_treated = sum(bool(after[p][5]) for p in customers if p != untreated)
    assert churned_treated <= churned


def test_treatments_file_errors_name_the_line(tmp_path):
    path = tmp_path / "treatments.csv"
    path.write_text("person_id,day,action,hazard,treated\nP0000001,2026-01-05,x,upsell,true\n")
    with pytest.raises(ValueError, match="line 2: hazard 'upsell'"):
        read_treatments(path, date(2026, 1, 1))


# --- on the demo pipeline ------------------------------------------------------------------


def test_demo_scores_carry_holdouts_and_the_uplift_dbt_tests_pass(
    demo_pipeline: DemoPipeline, tmp_path
):
    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            f"select intended_action, next_best_action, is_holdout from {SCORES_TABLE}"
        ).df()
        (built,) = con.execute("select count(*) from marts.agg_action_uplift").fetchone()
    assert len(rows) > 500 and rows["intended_action"].notna().all()
    assert ((rows["next_best_action"] == HOLDOUT_ACTION) == rows["is_holdout"]).all()
    acting = rows[~rows["intended_action"].isin(NON_ACTIONS)]
    assert 0.05 <= acting["is_holdout"].mean() <= 0.15  # default share 10 %
    assert not rows.loc[rows["intended_action"].isin(NON_ACTIONS), "is_holdout"].any()
    # Built after the run's scoring (dbt tag after_scores): the day's actions are in it, their
    # outcomes not known yet (the score day is the last day of data).
    uplift = None
    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        uplift = con.execute(
            "select intended_action, treated_customers + holdout_customers as customers, "
            "outcome_complete_share from marts.agg_action_uplift"
        ).df()
    assert built == len(uplift) > 0
    expected = acting.groupby("intended_action").size()
    counted = uplift[uplift["intended_action"].isin(expected.index)].groupby("intended_action")
    assert (counted["customers"].sum().reindex(expected.index) == expected).all()
    assert (uplift["outcome_complete_share"].fillna(0) == 0).all()
    done = dbt_test_on_demo(demo_pipeline, tmp_path, "agg_action_uplift")
    assert done.returncode == 0, done.stdout[-4000:]
    assert "test_action_uplift_rates_wald_interval_and_completeness" in done.stdout
