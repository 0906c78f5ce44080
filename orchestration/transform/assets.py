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

from orchestration.pipeline import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    SINGLE_PARTITION_TAG,
)
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.settings import export_hash_key
from orchestration.transform.metadata import enrich_outputs
from orchestration.transform.project import dbt_project, prepare_manifest
from orchestration.transform.translator import JourneyDbtTranslator


class DbtBuildConfig(dg.Config):
    """`partition_start`/`partition_end` (YYYY-MM-DD, end exclusive): the days the incremental
    models process. Unset in a run over ingestion partitions (the UI, the sensor): the run's
    months. Unset otherwise: whatever is new since each model's last build."""

    full_refresh: bool = False
    partition_start: str | None = None
    partition_end: str | None = None


def build_dbt_vars(partition_start: str | None, partition_end: str | None) -> dict[str, str]:
    """dbt --vars for a run: the new-data window of the incremental models, when the
    run covers a partition time window (end exclusive)."""
    if partition_start is None or partition_end is None:
        return {}
    return {"partition_start": partition_start, "partition_end": partition_end}


def build_dbt_args(config: DbtBuildConfig, dbt_vars: dict[str, str]) -> list[str]:
    # dbt unit tests check the SQL, not the data: `make test` runs them, every build need not.
    args = ["build", "--exclude-resource-type", "unit_test"]
    if config.full_refresh:
        args.append("--full-refresh")
    if dbt_vars:
        args += ["--vars", str(dbt_vars).replace("'", '"')]
    return args


def window_vars(context: dg.AssetExecutionContext, config: DbtBuildConfig) -> dict[str, str]:
    """The incremental window: the config's days, else the months of a partitioned run."""
    if config.partition_start:
        return build_dbt_vars(config.partition_start, config.partition_end)
    from orchestration.ingest.assets import export_partitions

    partitions = export_partitions()
    keys = context.run.tags.get(SINGLE_PARTITION_TAG)
    first, last = keys, keys
    if keys is None:
        first = context.run.tags.get(PARTITION_RANGE_START_TAG)
        last = context.run.tags.get(PARTITION_RANGE_END_TAG)
    if first is None or last is None:
        return {}
    start = partitions.time_window_for_partition_key(first).start.date().isoformat()
    end = partitions.time_window_for_partition_key(last).end.date().isoformat()
    return build_dbt_vars(start, end)


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


# dbt models that read marts.customer_scores: built after scoring (journey_dbt_score_marts).
AFTER_SCORES_TAG = "after_scores"


@functools.cache
def failure_relations() -> dict[str, str]:
    """unique_id → table of every dbt test that stores its failing rows (store_failures)."""
    manifest = json.loads(Path(prepare_manifest()).read_text())
    return {
        unique_id: node["relation_name"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test"
        and node.get("config", {}).get("store_failures")
        and node.get("relation_name")
    }


@functools.cache
def journey_dbt_assets() -> dg.AssetsDefinition:
    """The whole dbt project as ONE unpartitioned asset definition (built on first call,
    reads the manifest), so that every run is one `dbt build`: one process start, one parse,
    and dbt orders models and tests itself. The run's days go to dbt as vars, read by the
    incremental models; the others rebuild in full. Unpartitioned on purpose: Dagster records
    two events per partition per model (~45 models), which over a long range cost more than
    the build itself (docs/decisions.md)."""

    @dbt_assets(
        manifest=prepare_manifest(),
        project=dbt_project(),
        dagster_dbt_translator=JourneyDbtTranslator(),
        pool=WAREHOUSE_POOL,
        name="journey_dbt_models",
        exclude=f"tag:{AFTER_SCORES_TAG}",
    )
    def _dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        config: DbtBuildConfig,
    ) -> Iterator[Any]:
        _dbt_environment(warehouse)
        args = build_dbt_args(config, window_vars(context, config))
        context.log.info(f"dbt {' '.join(args)}")
        # Held until dbt exits so row counts and charts can be read from the finished tables
        # (DuckDB admits no reader while the dbt process writes); dbt's own log still streams.
        events = list(dbt.cli(args, context=context).stream())
        yield from enrich_outputs(events, model_relations(), warehouse, failure_relations())

    return _dbt_models


def _dbt_environment(warehouse: WarehouseResource) -> None:
    # profiles.yml reads the warehouse path from JOURNEY_WAREHOUSE; the dbt subprocess
    # inherits this environment and runs in dbt_project/, so the path must be absolute.
    os.environ["JOURNEY_WAREHOUSE"] = str(Path(warehouse.path).resolve())
    export_hash_key()


@functools.cache
def journey_dbt_score_marts() -> dg.AssetsDefinition:
    """The marts that read this run's scores (dbt tag `after_scores`: agg_action_uplift,
    agg_ltv_by_channel_path), as a second, small dbt invocation after `marts/customer_scores`.
    In the main build they would read the previous run's scores, and a run twice over the
    same data would not give the same tables. Full rebuilds: no window vars."""

    @dbt_assets(
        manifest=prepare_manifest(),
        project=dbt_project(),
        dagster_dbt_translator=JourneyDbtTranslator(),
        pool=WAREHOUSE_POOL,
        name="journey_dbt_score_marts",
        select=f"tag:{AFTER_SCORES_TAG}",
    )
    def _dbt_score_marts(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[Any]:
        _dbt_environment(warehouse)
        args = ["build", "--exclude-resource-type", "unit_test"]
        events = list(dbt.cli(args, context=context).stream())
        yield from enrich_outputs(events, model_relations(), warehouse, failure_relations())

    return _dbt_score_marts
