"""`privacy_erasure`: applies the privacy requests of the exports before each dbt build.

Thin: reads the pending requests, brings the identity graph up to date with dbt when there
are any, and calls orchestration.privacy.erasure; metadata holds counts only.

No `from __future__ import annotations`: Dagster reads the config annotation at runtime.
"""

import json
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.ingest.assets import raw_asset_key
from orchestration.privacy import erasure
from orchestration.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from orchestration.settings import SOURCES, export_hash_key

PRIVACY_GROUP = "privacy"
TOMBSTONE_KEY = dg.AssetKey(["privacy", "erased_identifiers"])
LOG_KEY = dg.AssetKey(["privacy", "erasure_log"])
LOG_TABLES_KEY = dg.AssetKey(["privacy", "erasure_log_tables"])
CHECK_NAME = "no_erased_rows_remain"
# The identity graph and the normalised requests: what resolving a request needs.
RESOLVE_SELECT = "+int_customer_identifiers stg_privacy__requests"


class ErasureConfig(dg.Config):
    """The run's days (YYYY-MM-DD, end exclusive): the window the identity models are brought
    up to date over, and the raw days swept for re-delivered rows of people erased before.
    Unset (the usual case): the days given to the dbt build of the same run, else the run's
    partitions, else none (no sweep; the staging filter still holds)."""

    partition_start: str | None = None
    partition_end: str | None = None


def _window(context: dg.AssetExecutionContext, config: ErasureConfig) -> dict[str, str]:
    from orchestration.run_config import DBT_OP
    from orchestration.transform.assets import DbtBuildConfig, window_vars

    start, end = config.partition_start, config.partition_end
    if not start:
        # The same days as the build that follows in this run (one source of truth: the
        # config `journey` and the schedule give the dbt op, run_config.day_run_config).
        ops = (context.run.run_config or {}).get("ops", {})
        build = ops.get(DBT_OP, {}).get("config", {})
        start, end = build.get("partition_start"), build.get("partition_end")
    return window_vars(context, DbtBuildConfig(partition_start=start, partition_end=end))


def _resolve_with_dbt(dbt: DbtCliResource, warehouse_path: str, dbt_vars: dict[str, str]) -> None:
    """Build the identity graph over the run's window (incremental models do their usual
    increment; the build that follows finds nothing new). `build`, not `run`: the seed of
    generic identifiers must exist on a first run; tests are left to the main build."""
    import os

    from orchestration.transform.project import prepare_manifest

    os.environ["JOURNEY_WAREHOUSE"] = str(Path(warehouse_path).resolve())
    args = ["build", "--select", RESOLVE_SELECT, "--exclude-resource-type", "test", "unit_test"]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    dbt.cli(args, manifest=prepare_manifest(), raise_on_error=True).wait()


@dg.multi_asset(
    name="privacy_erasure",
    specs=[
        dg.AssetSpec(
            TOMBSTONE_KEY,
            group_name=PRIVACY_GROUP,
            kinds={"duckdb"},
            deps=[raw_asset_key(source) for source in SOURCES],
            description=(
                "Erasure tombstones: keyed hashes of every identifier of each erased person "
                "(never the identifiers). Staging drops rows carrying one (docs/privacy.md)."
            ),
        ),
        dg.AssetSpec(
            LOG_KEY,
            group_name=PRIVACY_GROUP,
            kinds={"duckdb"},
            deps=[raw_asset_key("privacy_requests")],
            description="One row per applied privacy request: when, tables touched, rows removed.",
        ),
        dg.AssetSpec(
            LOG_TABLES_KEY,
            group_name=PRIVACY_GROUP,
            kinds={"duckdb"},
            deps=[LOG_KEY],
            description="Rows removed per request and table (counts only).",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=TOMBSTONE_KEY,
            description=(
                "No table outside `privacy` holds a row keyed by a tombstone after the run "
                "(warns when only raw rows remain: a re-delivered export outside the run's days)."
            ),
        )
    ],
    pool=WAREHOUSE_POOL,
)
def privacy_erasure(
    context: dg.AssetExecutionContext,
    config: ErasureConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    landing: LandingResource,
):
    """Apply pending erasure and opt-out requests of raw.privacy_requests: resolve each
    erased person through the identity graph, tombstone their identifiers, remove their rows
    from every table and their records from the landing files, log counts. Then sweep the
    run's raw days for rows of people erased before (a re-delivered export)."""
    started = time.perf_counter()
    key = export_hash_key()
    dbt_vars = _window(context, config)
    with warehouse.connect() as con:
        erasure.ensure_privacy_tables(con)
        pending = erasure.pending_requests(con)
    erasures = [r.request_id for r in pending if r.request_type == "erasure"]
    dbt_started = time.perf_counter()
    if erasures:
        _resolve_with_dbt(dbt, warehouse.path, dbt_vars)
    dbt_seconds = round(time.perf_counter() - dbt_started, 3)
    with warehouse.connect() as con:
        new_keys = erasure.record_tombstones(con, key, erasures)
        applied = erasure.erase(con, key, erasures, landing.root_path) if erasures else None
        applied = applied or erasure.ErasureResult()
        if pending:
            erasure.log_requests(con, pending, applied)
        window = None
        if dbt_vars:
            first = date.fromisoformat(dbt_vars["partition_start"])
            last = date.fromisoformat(dbt_vars["partition_end"]) - timedelta(days=1)
            window = (first, last)
        # Re-delivered rows of people erased in earlier runs; this run's erasures just went
        # through every table, so their keys need no second pass.
        applied_now = set(erasures)
        earlier = [
            request_id
            for (request_id,) in con.execute(
                f"select distinct request_id from {erasure.TOMBSTONE} order by 1"
            ).fetchall()
            if request_id not in applied_now
        ]
        swept = erasure.ErasureResult()
        if window is not None and earlier:
            swept = erasure.erase(
                con, key, earlier, landing.root_path, window=window, raw_only=True
            )
        remaining = erasure.remaining_rows(con, key)
        tombstones = con.execute(f"select count(*) from {erasure.TOMBSTONE}").fetchone()[0]
    for warning in applied.warnings + swept.warnings:
        context.log.warning(warning)
    seconds = round(time.perf_counter() - started, 3)
    by_table = applied.rows_by_table()
    swept_by_table = swept.rows_by_table()
    summary = {
        "requests_applied": len(pending),
        "erasures_applied": len(erasures),
        "opt_outs_applied": sum(r.request_type == "opt_out" for r in pending),
        "rows_removed": sum(by_table.values()),
        "landing_files_rewritten": len(applied.files_rewritten),
        "redelivered_rows_removed": sum(swept_by_table.values()),
        "seconds": seconds,
        "dbt_seconds": dbt_seconds,  # of `seconds`: bringing the identity graph up to date
    }
    context.log.info(f"privacy_erasure: {summary}")
    yield dg.MaterializeResult(
        asset_key=TOMBSTONE_KEY,
        metadata={
            **summary,
            "tombstones_added": new_keys,
            "tombstones": tombstones,
            "rows_removed_by_table": dg.MetadataValue.json(by_table),
            "redelivered_rows_removed_by_table": dg.MetadataValue.json(swept_by_table),
        },
    )
    yield dg.MaterializeResult(asset_key=LOG_KEY, metadata={"requests_logged": len(pending)})
    yield dg.MaterializeResult(asset_key=LOG_TABLES_KEY, metadata={"tables_logged": len(by_table)})
    only_raw = all(name.startswith("raw.") for name in remaining)
    yield dg.AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=TOMBSTONE_KEY,
        passed=not remaining,
        severity=dg.AssetCheckSeverity.WARN if only_raw else dg.AssetCheckSeverity.ERROR,
        metadata={
            "tables_with_erased_rows": len(remaining),
            "rows_by_table": dg.MetadataValue.json(remaining),
        },
        description=(
            None
            if not remaining
            else "rows of erased people remain (raw rows outside the run's days are filtered "
            "at staging; a refresh over their days removes them)"
            if only_raw
            else "rows of erased people remain downstream of raw: the erasure is incomplete"
        ),
    )
