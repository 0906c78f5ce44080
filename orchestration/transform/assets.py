"""The dbt build as Dagster assets.

No `from __future__ import annotations` here: Dagster reads the asset function's annotations
at definition time to find its config class.
"""

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.transform.metadata import enrich_outputs
from orchestration.transform.project import dbt_project, prepare_manifest
from orchestration.transform.translator import JourneyDbtTranslator


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False


def build_dbt_vars(partition_start: str | None, partition_end: str | None) -> dict[str, str]:
    """dbt --vars for a run: the new-data window of the incremental session models, when the
    run covers a partition time window (end exclusive)."""
    if partition_start is None or partition_end is None:
        return {}
    return {"partition_start": partition_start, "partition_end": partition_end}


def build_dbt_args(config: DbtBuildConfig, dbt_vars: dict[str, str]) -> list[str]:
    args = ["build"]
    if config.full_refresh:
        args.append("--full-refresh")
    if dbt_vars:
        args += ["--vars", str(dbt_vars).replace("'", '"')]
    return args


def _time_window_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    if not context.has_partition_key:
        return {}
    window = context.partition_time_window
    return build_dbt_vars(window.start.date().isoformat(), window.end.date().isoformat())


@functools.cache
def model_relations() -> dict[str, str]:
    """Output name of each dbt model/seed asset → its relation (e.g. "marts"."fct_sessions")."""
    project = dbt_project()
    manifest = json.loads(Path(prepare_manifest()).read_text())
    translator = JourneyDbtTranslator()
    return {
        translator.get_asset_spec(manifest, unique_id, project).key.to_python_identifier(): node[
            "relation_name"
        ]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in {"model", "seed", "snapshot"} and node.get("relation_name")
    }


# Incremental models take the partition window as vars: a daily run processes that day (plus
# the model's own lookback) and a backfill of any range runs as ONE dbt invocation.
INCREMENTAL_SELECT = "config.materialized:incremental"


def _build_dbt_assets(
    name: str,
    *,
    select: str = "fqn:*",
    exclude: str | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=prepare_manifest(),
        project=dbt_project(),
        select=select,
        exclude=exclude,
        dagster_dbt_translator=JourneyDbtTranslator(),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        pool=WAREHOUSE_POOL,
        name=name,
    )
    def _dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        config: DbtBuildConfig,
    ) -> Iterator[Any]:
        # profiles.yml reads the warehouse path from JOURNEY_WAREHOUSE; the dbt subprocess
        # inherits this environment and runs in dbt_project/, so the path must be absolute.
        warehouse_path = str(Path(warehouse.path).resolve())
        os.environ["JOURNEY_WAREHOUSE"] = warehouse_path
        args = build_dbt_args(config, _time_window_vars(context))
        context.log.info(f"dbt {' '.join(args)}")
        # Held until dbt exits so row counts and charts can be read from the finished tables
        # (DuckDB admits no reader while the dbt process writes); dbt's own log still streams.
        events = list(dbt.cli(args, context=context).stream())
        yield from enrich_outputs(events, model_relations(), warehouse)

    return _dbt_models


@functools.cache
def journey_dbt_assets() -> list[dg.AssetsDefinition]:
    """The dbt project as three asset definitions, built on first call (reads the manifest):
    the models the incremental ones read, the daily-partitioned incremental models, and the
    rest. Three, not two, so that no op depends on itself through another one: a dbt test
    that spans two definitions always runs in the later one, after both tables exist."""
    from orchestration.ingest.assets import daily_partitions

    return [
        _build_dbt_assets(
            "journey_dbt_upstream", select=f"+{INCREMENTAL_SELECT}", exclude=INCREMENTAL_SELECT
        ),
        _build_dbt_assets(
            "journey_dbt_incremental", select=INCREMENTAL_SELECT, partitions_def=daily_partitions()
        ),
        _build_dbt_assets("journey_dbt_models", exclude=f"+{INCREMENTAL_SELECT}"),
    ]
