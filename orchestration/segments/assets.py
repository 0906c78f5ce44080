"""Journey segments as a Dagster asset: read the features dbt built, fit (ml.segments),
track the fit in MLflow, write the segment marts.

Stable ids need the previous fit's centroids. They are kept in the warehouse, in
`marts.journey_segment_centroids` (one row per fit, segment and feature, appended), rather
than read back from the previous MLflow run: the warehouse is what the assignments are
written to in the same transaction, so the ids and the centroids they were matched against
can never disagree, and no artifact has to be downloaded. The MLflow run logs the same
centroids for the record.
"""

from datetime import date
from typing import Any

import dagster as dg
import pandas as pd

from orchestration.ml.assets import DAGSTER_RUN_TAG
from orchestration.ml.resources import MlflowResource
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.transform.metadata import png_markdown

SEGMENTS_GROUP = "segments"
FEATURES_TABLE = "marts.customer_journey_features"
FEATURES_KEY = dg.AssetKey(["marts", "customer_journey_features"])
SEGMENTS_KEY = dg.AssetKey(["marts", "customer_journey_segments"])
AGG_KEY = dg.AssetKey(["marts", "agg_journey_segments"])
SEGMENTS_TABLE = "marts.customer_journey_segments"
AGG_TABLE = "marts.agg_journey_segments"
CENTROIDS_TABLE = "marts.journey_segment_centroids"
# A segment smaller than this share of the customers is too small to act on (a warning).
MIN_SEGMENT_SHARE = 0.02
# Below this many known customers there is nothing to segment (e.g. a month of web events
# with few identified people): the asset says so and leaves the marts empty.
MIN_CUSTOMERS = 100

DDL = {
    SEGMENTS_TABLE: """
        customer_id varchar not null,
        segment_id integer not null,
        segment_name varchar not null,
        as_of date not null""",
    AGG_TABLE: """
        segment_id integer not null,
        segment_name varchar not null,
        customers bigint not null,
        conversion_rate double,
        revenue decimal(18, 2),
        churn_rate double,
        median_days_to_convert double,
        as_of date not null""",
    CENTROIDS_TABLE: """
        segment_id integer not null,
        segment_name varchar not null,
        feature varchar not null,
        centroid_value double,
        as_of date not null,
        fitted_at timestamptz not null,
        mlflow_run_id varchar""",
}


def read_features(con) -> pd.DataFrame:
    # Ordered: dbt stores rows in a different physical order on every build (ml/ sorts too).
    return con.execute(f"select * from {FEATURES_TABLE} order by customer_id").df()


def _table_exists(con, table: str) -> bool:
    schema, name = table.split(".")
    (count,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return count > 0


def read_previous_centroids(con, as_of: date) -> tuple[pd.DataFrame | None, int | None]:
    """The centroids (wide) of the latest fit on data up to `as_of` (an earlier refit, or
    this day's own if it was fitted already), and the next unused segment id (ids of retired
    segments are never reused); (None, None) before the first fit. Fits on later data are
    ignored, so re-running an earlier day matches what that day matched."""
    from ml.segments import centroid_table_wide

    if not _table_exists(con, CENTROIDS_TABLE):
        return None, None
    long = con.execute(
        f"""
        select segment_id, feature, centroid_value from {CENTROIDS_TABLE}
        where (as_of, fitted_at) = (
            select (as_of, fitted_at) from {CENTROIDS_TABLE}
            where as_of <= ? order by as_of desc, fitted_at desc limit 1
        )
        """,
        [as_of],
    ).df()
    if long.empty:
        return None, None
    (max_id,) = con.execute(f"select max(segment_id) from {CENTROIDS_TABLE}").fetchone()
    return centroid_table_wide(long), int(max_id) + 1


def write_segments(
    con,
    assignments: pd.DataFrame,
    profile: pd.DataFrame,
    centroids_long: pd.DataFrame,
    as_of: date,
    run_id: str,
) -> None:
    """Replace both marts and the fit's centroids of `as_of` in one transaction: the
    centroid table keeps one fit per data day (the history refits are matched against), so
    running the same day twice leaves the same rows."""
    con.execute("create schema if not exists marts")
    for table, columns in DDL.items():
        con.execute(f"create table if not exists {table} ({columns})")
    batches = {
        "segments_batch": assignments.assign(as_of=as_of),
        "agg_batch": profile.assign(as_of=as_of),
        "centroids_batch": centroids_long.assign(as_of=as_of, mlflow_run_id=run_id),
    }
    con.execute("begin transaction")
    try:
        for name, frame in batches.items():
            con.register(name, frame)
        con.execute(f"delete from {SEGMENTS_TABLE}")
        con.execute(
            f"insert into {SEGMENTS_TABLE} "
            "select customer_id, segment_id, segment_name, as_of from segments_batch"
        )
        con.execute(f"delete from {AGG_TABLE}")
        con.execute(
            f"insert into {AGG_TABLE} select segment_id, segment_name, customers, "
            "conversion_rate, revenue, churn_rate, median_days_to_convert, as_of from agg_batch"
        )
        con.execute(f"delete from {CENTROIDS_TABLE} where as_of = ?", [as_of])
        con.execute(
            f"insert into {CENTROIDS_TABLE} select segment_id, segment_name, feature, "
            "centroid_value, as_of, now(), mlflow_run_id from centroids_batch"
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for name in batches:
            con.unregister(name)


def _check_results(con, feature_rows: int) -> dict[str, dg.AssetCheckResult]:
    (rows, customers, missing) = con.execute(
        f"""
        select count(*), count(distinct s.customer_id),
               (select count(*) from {FEATURES_TABLE} f
                where not exists (select 1 from {SEGMENTS_TABLE} s2
                                  where s2.customer_id = f.customer_id))
        from {SEGMENTS_TABLE} s
        """
    ).fetchone()
    agg = con.execute(f"select segment_id, customers from {AGG_TABLE}").df()
    smallest = float(agg["customers"].min() / max(rows, 1)) if len(agg) else 0.0
    return {
        "every_customer_in_one_segment": dg.AssetCheckResult(
            asset_key=SEGMENTS_KEY,
            check_name="every_customer_in_one_segment",
            passed=bool(rows == customers == feature_rows and missing == 0),
            metadata={
                "rows": rows,
                "customers": customers,
                "known_customers": feature_rows,
                "customers_without_segment": missing,
            },  # fmt: skip
        ),
        "sizes_sum_to_customers": dg.AssetCheckResult(
            asset_key=AGG_KEY,
            check_name="sizes_sum_to_customers",
            passed=bool(int(agg["customers"].sum()) == rows),
            metadata={"sum_of_sizes": int(agg["customers"].sum()), "customers": rows},
        ),
        "no_tiny_segment": dg.AssetCheckResult(
            asset_key=AGG_KEY,
            check_name="no_tiny_segment",
            passed=bool(smallest >= MIN_SEGMENT_SHARE),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"smallest_share": smallest, "minimum": MIN_SEGMENT_SHARE},
        ),
    }


def _segments_skipped(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, features: pd.DataFrame
):
    """Too few customers to segment: empty marts (BI tools still find the tables), a skip
    reason the `journey` console shows, and warnings instead of failed checks."""
    reason = (
        f"journey segments: {len(features)} known customers in {FEATURES_TABLE}, fewer than "
        f"{MIN_CUSTOMERS}; segmentation skipped"
    )
    context.log.warning(reason)
    empty = pd.DataFrame(columns=["customer_id", "segment_id", "segment_name"])
    profile = pd.DataFrame(columns=[
        "segment_id", "segment_name", "customers", "conversion_rate", "revenue", "churn_rate",
        "median_days_to_convert",
    ])  # fmt: skip
    centroids = pd.DataFrame(columns=["segment_id", "segment_name", "feature", "centroid_value"])
    as_of = pd.to_datetime(features["as_of_date"]).max()
    with warehouse.connect() as con:
        write_segments(con, empty, profile, centroids, as_of.date() if len(features) else None, "")
    metadata = {"skip_reason": dg.MetadataValue.text(reason), "dagster/row_count": 0}
    yield dg.MaterializeResult(asset_key=SEGMENTS_KEY, metadata=metadata)
    yield dg.MaterializeResult(asset_key=AGG_KEY, metadata=metadata)
    for spec in CHECKS:
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"skipped": True, "skip_reason": dg.MetadataValue.text(reason)},
        )


CHECKS = [
    dg.AssetCheckSpec(
        "every_customer_in_one_segment",
        asset=SEGMENTS_KEY,
        blocking=True,
        description=f"Every customer of {FEATURES_TABLE} has exactly one row.",
    ),
    dg.AssetCheckSpec(
        "sizes_sum_to_customers",
        asset=AGG_KEY,
        blocking=True,
        description="The segment sizes add up to the customers segmented.",
    ),
    dg.AssetCheckSpec(
        "no_tiny_segment",
        asset=AGG_KEY,
        description=f"No segment holds less than {MIN_SEGMENT_SHARE:.0%} of the customers.",
    ),
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SEGMENTS_KEY,
            deps=[FEATURES_KEY],
            kinds={"scikit-learn", "mlflow", "duckdb"},
            owners=["team:data-science"],
            description=(
                "One row per known customer: the journey segment (stable `segment_id`, "
                "readable `segment_name`) of the latest fit, and `as_of` (latest data day)."
            ),
        ),
        dg.AssetSpec(
            AGG_KEY,
            deps=[FEATURES_KEY],
            kinds={"scikit-learn", "mlflow", "duckdb"},
            owners=["team:data-science"],
            description=(
                "One row per journey segment: customers, conversion rate, net revenue, churn "
                "rate (of its buyers) and median days to convert."
            ),
        ),
    ],
    name="journey_segments",
    group_name=SEGMENTS_GROUP,
    pool=WAREHOUSE_POOL,
    check_specs=CHECKS,
    description=(
        f"KMeans journey segments of `{FEATURES_TABLE}` (k by silhouette over 3..8), ids "
        f"matched to the previous fit's centroids (`{CENTROIDS_TABLE}`), tracked in the MLflow "
        "experiment 'Journey segments'. See docs/models.md."
    ),
)
def journey_segments(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    mlflow_store: MlflowResource,
):
    # scikit-learn and MLflow: loaded by the runs that fit, not by the code location.
    from ml.segments import (
        EXPERIMENT_NAME,
        centroid_table_long,
        fit_segments,
        log_segmentation,
        profile_segments,
        segment_chart,
    )

    with warehouse.connect(read_only=True) as con:
        features = read_features(con)
        if len(features) >= MIN_CUSTOMERS:
            as_of = pd.to_datetime(features["as_of_date"]).max().date()
            previous, next_id = read_previous_centroids(con, as_of)
    if len(features) < MIN_CUSTOMERS:
        yield from _segments_skipped(context, warehouse, features)
        return
    segmentation = fit_segments(features, previous_centroids=previous, next_id=next_id)
    profile = profile_segments(features, segmentation.assignments)
    chart = segment_chart(profile)
    experiment_id, run_id = log_segmentation(
        segmentation,
        profile,
        mlflow_store.tracking_uri,
        tags={"as_of": str(as_of), DAGSTER_RUN_TAG: context.run.run_id},
        chart_png=chart,
    )
    with warehouse.connect() as con:
        write_segments(
            con,
            segmentation.assignments,
            profile,
            centroid_table_long(segmentation.centroids),
            as_of,
            run_id,
        )
        checks = _check_results(con, len(features))
    context.log.info(
        f"{len(features):,} customers in {segmentation.k} journey segments "
        f"(silhouette {segmentation.silhouettes[segmentation.k]:.3f})"
    )
    sizes = {f"{r.segment_id}: {r.segment_name}": int(r.customers) for r in profile.itertuples()}
    common: dict[str, Any] = {
        "as_of": str(as_of),
        "k": segmentation.k,
        "silhouette_by_k": dg.MetadataValue.json(
            {str(k): round(s, 4) for k, s in segmentation.silhouettes.items()}
        ),
        "mlflow_run": dg.MetadataValue.url(mlflow_store.run_url(experiment_id, run_id)),
        "mlflow_experiment": EXPERIMENT_NAME,
    }
    yield dg.MaterializeResult(
        asset_key=SEGMENTS_KEY,
        metadata={**common, "dagster/row_count": len(segmentation.assignments)},
    )
    yield dg.MaterializeResult(
        asset_key=AGG_KEY,
        metadata={
            **common,
            "dagster/row_count": len(profile),
            "segment_sizes": dg.MetadataValue.json(sizes),
            "profile": dg.MetadataValue.md(profile.to_markdown(index=False, floatfmt=".3f")),
            "segments_chart": png_markdown("Journey segments: size and conversion", chart),
        },
    )
    yield from checks.values()
