import dagster as dg

from orchestration.ml.assets import SCORES_GROUP
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.serve.publish import publish_serving_copy
from orchestration.settings import get_settings
from orchestration.transform.journey_map import write_journey_map


@dg.asset(
    key=dg.AssetKey(["serving", "serving_database"]),
    # Everything written after the main dbt build, so the copy holds it: scores, segments and
    # the marts that read the scores.
    deps=[
        dg.AssetKey(["marts", "customer_scores"]),
        dg.AssetKey(["marts", "customer_journey_segments"]),
        dg.AssetKey(["marts", "agg_journey_segments"]),
        dg.AssetKey(["marts", "agg_action_uplift"]),
        dg.AssetKey(["marts", "agg_ltv_by_channel_path"]),
    ],
    group_name=SCORES_GROUP,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    owners=["team:data-engineering"],
    description=(
        "Read-only copy of every `marts.*` table for BI tools (`$JOURNEY_SERVING`, default "
        "data/serving.duckdb), rebuilt beside the old file and swapped in atomically so open "
        "readers keep a consistent view. See docs/serving.md."
    ),
)
def serving_database(warehouse: WarehouseResource) -> dg.MaterializeResult:
    serving_path = get_settings().serving_path
    with warehouse.connect() as con:
        result = publish_serving_copy(con, serving_path)
        journey_map = write_journey_map(con, serving_path.parent)  # docs beside the copy
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.serving_path)),
            "tables": len(result.row_counts),
            "bytes": result.bytes_written,
            "row_counts": dg.MetadataValue.json(result.row_counts),
            **{path.name: dg.MetadataValue.path(str(path)) for path in journey_map},
        }
    )
