"""ml.ltv: the survival sum by hand, customers vs leads, zero MRR, monotone in churn."""

import numpy as np
import pandas as pd
import pytest

from ml.ltv import (
    customer_value,
    lead_value,
    months_to_next_renewal,
    predicted_ltv,
    survival_sum,
)


def test_survival_sum_by_hand() -> None:
    # p = 0.5: 0.5 + 0.25 + 0.125 = 0.875 over 3 months.
    assert survival_sum(0.5, 3) == pytest.approx(0.875)
    # No churn: every one of the 12 renewals is paid; certain churn: none.
    assert survival_sum(np.array([0.0, 1.0])) == pytest.approx([12.0, 0.0])
    # p = 0.1 over 12 months: geometric series 0.9 (1 - 0.9^12) / 0.1.
    assert survival_sum(0.1) == pytest.approx(0.9 * (1 - 0.9**12) / 0.1)
    # Renewals due within the horizon only: 2.5 months hold the ones due at 1 and 2 ...
    assert survival_sum(0.5, 2.5) == pytest.approx(0.5 + 0.25)
    # ... and, with the next one due in half a month, those at 0.5, 1.5 and 2.5.
    assert survival_sum(0.5, 2.5, 0.5) == pytest.approx(0.5**0.5 + 0.5**1.5 + 0.5**2.5)
    # Twelve renewals in 12 months whenever the next is due.
    assert survival_sum(0.0, 12, np.array([0.1, 0.5, 1.0])) == pytest.approx([12, 12, 12])


def test_next_renewal_from_tenure() -> None:
    due = months_to_next_renewal(np.array([0.0, 10.0, 29.0, 30.0, 45.0, np.nan]))
    assert due == pytest.approx([1.0, 2 / 3, 1 / 30, 1.0, 0.5, 0.5])


def test_zero_or_missing_mrr_is_worth_nothing() -> None:
    assert customer_value(np.array([0.0, np.nan]), np.array([0.1, 0.1])) == pytest.approx([0, 0])


def test_monotone_in_churn_probability() -> None:
    p = np.linspace(0, 1, 21)
    value = customer_value(np.full(len(p), 199.0), p)
    assert np.all(np.diff(value) < 0)
    assert value[0] == pytest.approx(12 * 199.0)


def _scores() -> pd.DataFrame:
    # 25 new "smb" customers at 100/month with p = 0.1, one old enterprise customer, two leads.
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(25)],
            "churn_probability": 0.1,
            "purchase_propensity": np.nan,
            "mrr": 100.0,
            "segment": "smb",
            "tenure_days": 10.0,
        }
    )
    old = pd.DataFrame(
        {
            "customer_id": ["old"],
            "churn_probability": [0.0],
            "purchase_propensity": [np.nan],
            "mrr": [1000.0],
            "segment": ["enterprise"],
            "tenure_days": [400.0],
        }
    )
    leads = pd.DataFrame(
        {
            "customer_id": ["lead_smb", "lead_unknown"],
            "churn_probability": [np.nan, np.nan],
            "purchase_propensity": [0.5, 0.2],
            "mrr": [0.0, 0.0],
            "segment": ["smb", None],
            "tenure_days": [np.nan, np.nan],
        }
    )
    return pd.concat([customers, old, leads], ignore_index=True)


def test_customers_and_leads() -> None:
    scores = _scores()
    scores.loc[scores["customer_id"] == "lead_smb", "purchase_propensity"] = 1.0
    ltv = predicted_ltv(scores).set_axis(scores["customer_id"])
    # c0 started 10 days ago: renewals due in 20 days, then monthly.
    assert ltv["c0"] == pytest.approx(100.0 * sum(0.9 ** (2 / 3 + k) for k in range(12)))
    assert ltv["old"] == pytest.approx(12_000.0)
    # A lead certain to buy buys on day 1 and is worth a new customer of its segment over the
    # whole year: the first order, then the renewals of the 11 months left.
    assert ltv["lead_smb"] == pytest.approx(100.0 * (1 + survival_sum(0.1, 11)))
    # Without a known segment: all new customers (the old customer is not new); less likely
    # to buy, worth less.
    assert 0 < ltv["lead_unknown"] < ltv["lead_smb"]
    assert (ltv[["c0", "old", "lead_smb", "lead_unknown"]] > 0).all()


def test_lead_purchase_probability_is_a_constant_hazard() -> None:
    one_month = pd.DataFrame({"mrr": [1.0], "churn_probability": [0.0]})
    p = np.array([0.0, 0.2, 0.5, 1.0])
    # Over the 14-day window with a value of 1 per buyer: the value is the probability.
    assert lead_value(p, one_month, months=14 / 30) == pytest.approx(p)
    # Over 28 days: two windows, 1 - (1 - p)^2.
    assert lead_value(p, one_month, months=28 / 30) == pytest.approx(1 - (1 - p) ** 2)
    year = lead_value(np.linspace(0, 1, 11), one_month.assign(mrr=100.0, churn_probability=0.1))
    assert year[0] == 0 and np.all(np.diff(year) > 0)


def test_small_segment_falls_back_to_all_new_customers() -> None:
    scores = _scores()
    scores.loc[:5, "segment"] = "mid_market"  # 6 new mid-market customers: too few
    scores.loc[:5, "mrr"] = 400.0
    scores.loc[len(scores) - 2, "segment"] = "mid_market"
    scores.loc[len(scores) - 2, "purchase_propensity"] = 1.0
    ltv = predicted_ltv(scores)
    mean_mrr = (6 * 400.0 + 19 * 100.0) / 25
    assert ltv.iloc[-2] == pytest.approx(mean_mrr * (1 + survival_sum(0.1, 11)))


def test_rows_without_a_score_get_no_value() -> None:
    scores = _scores().assign(churn_probability=np.nan, purchase_propensity=np.nan)
    assert predicted_ltv(scores).isna().all()


@pytest.fixture(scope="module")
def features_and_pipeline():
    from ml import train_classifier
    from ml.synthetic import make_customer_frame

    # marketing_consent is not a feature here: scoring merges it from dim_customers.
    frame = make_customer_frame(n_customers=300, n_snapshots=2, positive_rate=0.2, seed=3).drop(
        columns=["marketing_consent"]
    )
    result = train_classifier(
        frame, "churned", time_column="snapshot_date", id_columns=["customer_id"]
    )
    features = frame.drop(columns=["churned"])
    number = features["customer_id"].str[-6:].astype(int)
    features["is_customer_at_snapshot"] = number < 200  # 200 customers, 100 leads
    features["paid_orders_to_date"] = np.where(number < 200, 1.0, 0.0)
    features["mrr"] = np.where(number < 200, 49.0 + number, 0.0)
    features["segment"] = np.where(number % 2 == 0, "smb", "enterprise")
    features["tenure_days"] = np.where(number < 200, number % 120, np.nan)
    return features, result.pipeline


def test_scores_carry_predicted_ltv_12m(features_and_pipeline, tmp_path) -> None:
    """Scoring a day writes predicted_ltv_12m: mrr × survival sum for customers, propensity
    × a new customer's value for leads; a table created before the column gains it."""
    import duckdb

    from orchestration.ml.assets import Champion, _day_metadata, score_snapshot, write_scores
    from orchestration.ml.specs import CHURN, PURCHASE_PROPENSITY

    features, pipeline = features_and_pipeline
    day = features["snapshot_date"].max().date()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema marts")
        con.register("features_frame", features)
        con.execute("create table marts.customer_features as select * from features_frame")
        # The table as it shipped before LTV existed.
        con.execute(
            "create table marts.customer_scores (customer_id varchar not null, score_date date"
            " not null, feature_snapshot_date date not null, churn_probability double,"
            " churn_risk_band varchar, purchase_propensity double, propensity_band varchar,"
            " churn_model_version varchar, propensity_model_version varchar, top_reasons"
            " varchar, next_best_action varchar not null, scored_at timestamptz not null)"
        )
        champions = {
            CHURN.model_name: Champion(CHURN, "1", pipeline),
            PURCHASE_PROPENSITY.model_name: Champion(PURCHASE_PROPENSITY, "1", pipeline),
        }
        consent = pd.DataFrame({"customer_id": features["customer_id"].unique()}).assign(
            marketing_consent=True
        )
        scores, _ = score_snapshot(con, day, champions, consent)
        write_scores(con, scores, day)
        written = con.execute(
            "select customer_id, churn_probability, purchase_propensity, predicted_ltv_12m"
            " from marts.customer_scores where score_date = ?",
            [day],
        ).df()
    snapshot = features[features["snapshot_date"].dt.date == day].set_index("customer_id")
    written = written.set_index("customer_id").join(snapshot[["mrr", "segment", "tenure_days"]])
    assert len(written) == 300 and written["predicted_ltv_12m"].notna().all()
    paying = written["churn_probability"].notna()
    assert paying.sum() == 200
    due = months_to_next_renewal(written["tenure_days"])
    expected = written["mrr"] * survival_sum(written["churn_probability"], 12, due)
    assert np.allclose(written.loc[paying, "predicted_ltv_12m"], expected[paying])
    # Leads: worth more the likelier they buy (one segment at a time).
    leads = written[~paying]
    for _, group in leads.groupby("segment"):
        ordered = group.sort_values("purchase_propensity")
        assert ordered["predicted_ltv_12m"].is_monotonic_increasing
    assert (leads["predicted_ltv_12m"] > 0).all()
    assert (written.loc[paying, "predicted_ltv_12m"] > 0).all()
    # What the asset page shows.
    metadata = _day_metadata(scores, len(written), day, [])
    assert metadata["predicted_ltv_12m_total"] == pytest.approx(written["predicted_ltv_12m"].sum())
    assert metadata["predicted_ltv_12m_mean_paying"] == pytest.approx(
        written.loc[paying, "predicted_ltv_12m"].mean()
    )
    assert metadata["predicted_ltv_12m_mean_lead"] == pytest.approx(
        leads["predicted_ltv_12m"].mean()
    )
