"""One daily-partitioned asset per source: the landing file of a day → `raw.<source>`.

Assets are thin: they loop over the run's partitions, call `loaders.load_file` and attach
metadata. A backfill of many days is one run (single-run backfill policy) that loads each
day in its own transaction, so a failure on day N keeps days before N loaded.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from orchestration.ingest.loaders import (
    LoadResult,
    Reconciliation,
    landing_path,
    load_file,
    reconcile_partition,
)
from orchestration.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from orchestration.settings import SOURCES, get_settings

INGESTION_GROUP = "ingestion"
PREVIEW_CELL_CHARS = 60


@functools.cache
def _daily_partitions(start_date: str) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start_date, timezone="UTC")


def daily_partitions() -> dg.DailyPartitionsDefinition:
    """The daily partitions shared by ingestion and everything downstream of it.

    Cached per start date so that all assets share one (equal) definition; read from the
    settings when definitions are built, not at import.
    """
    return _daily_partitions(get_settings().first_partition_date)


def raw_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def reconcile_check_name(source: str) -> str:
    return f"{source}_lines_reconcile"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if len(text) > PREVIEW_CELL_CHARS:
        text = text[: PREVIEW_CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")


def preview_markdown(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "_no rows loaded_"
    columns = [c for c in rows[0] if c not in ("_partition_date", "_source_file")]
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows),
    ]
    return "\n".join(lines)


def materialization_metadata(result: LoadResult) -> dict[str, Any]:
    return {
        "dagster/row_count": dg.MetadataValue.int(result.rows_loaded),
        "rows_loaded": dg.MetadataValue.int(result.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(result.rows_rejected),
        "lines_read": dg.MetadataValue.int(result.lines_read),
        "blank_lines": dg.MetadataValue.int(result.blank_lines),
        "file_bytes": dg.MetadataValue.int(result.file_bytes),
        "source_file": dg.MetadataValue.text(result.source_file),
        "missing_file": dg.MetadataValue.bool(result.missing),
        "warnings": dg.MetadataValue.text("\n".join(result.warnings) or "none"),
        "preview": dg.MetadataValue.md(preview_markdown(result.preview)),
    }


def reconcile_check_result(
    source: str, reconciliations: Sequence[Reconciliation]
) -> dg.AssetCheckResult:
    failures = [r for r in reconciliations if not r.passed]
    return dg.AssetCheckResult(
        check_name=reconcile_check_name(source),
        asset_key=raw_asset_key(source),
        passed=not failures,
        metadata={
            "partitions_checked": len(reconciliations),
            "lines_in_files": sum(r.lines_in_file for r in reconciliations),
            "rows_loaded": sum(r.rows_loaded for r in reconciliations),
            "rows_rejected": sum(r.rows_rejected for r in reconciliations),
            "mismatches": dg.MetadataValue.text(
                "\n".join(r.describe() for r in failures) or "none"
            ),
        },
        description=(
            None
            if not failures
            else f"{len(failures)} file(s) where lines read != rows loaded + rows rejected"
        ),
    )


def build_ingestion_asset(source: str) -> dg.AssetsDefinition:
    key = raw_asset_key(source)
    check_name = reconcile_check_name(source)

    @dg.asset(
        key=key,
        group_name=INGESTION_GROUP,
        kinds={"duckdb"},
        owners=["team:data-engineering"],
        tags={"layer": "raw", "source_format": SOURCES[source]},
        partitions_def=daily_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        description=(
            f"`{source}` export of the day (`<landing>/{source}/<day>.{SOURCES[source]}`) "
            f"loaded into `raw.{source}`; unreadable lines go to `raw.{source}__rejected`. "
            "Contract: docs/raw_tables.md."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                check_name,
                asset=key,
                blocking=True,
                description="Every data line of the file is either loaded or rejected.",
            )
        ],
    )
    def _ingest(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
    ) -> dg.MaterializeResult:
        root = landing.root_path
        reconciliations = []
        with warehouse.connect() as con:
            for partition_key in context.partition_keys:
                day = date.fromisoformat(partition_key)
                result = load_file(con, source, landing_path(root, source, day), day, root)
                for warning in result.warnings:
                    context.log.warning(warning)
                context.add_asset_metadata(
                    materialization_metadata(result), partition_key=partition_key
                )
                reconciliations.append(reconcile_partition(con, source, day, root))
        return dg.MaterializeResult(check_results=[reconcile_check_result(source, reconciliations)])

    return _ingest


def ingestion_assets() -> list[dg.AssetsDefinition]:
    return [build_ingestion_asset(source) for source in SOURCES]
