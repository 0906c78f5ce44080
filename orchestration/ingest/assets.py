"""One daily-partitioned asset per source: the landing file of a day → `raw.<source>`.

Assets are thin: they call `loaders.load_partitions` once for the run's whole range (a few
set-based DuckDB statements and one transaction, docs/ingestion.md) and attach metadata. A
backfill of many days is one run (single-run backfill policy); if a file cannot be read the
run fails naming it and no day of the range changes.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from orchestration.ingest.loaders import (
    LoadResult,
    RangeLoad,
    Reconciliation,
    load_partitions,
    reconcile_partitions,
)
from orchestration.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from orchestration.settings import SOURCES, get_settings

INGESTION_GROUP = "ingestion"
PREVIEW_CELL_CHARS = 60
# Warnings logged per run; the rest are counted (a sparse source warns once per empty day).
MAX_LOGGED_WARNINGS = 20


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
    """Small per-partition metadata: the UI shows which days are loaded and with what."""
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
    }


def run_summary_metadata(loaded: RangeLoad) -> dict[str, Any]:
    """Once per run: totals of the range and one preview (personal data masked, issue 12)."""
    seconds = max(loaded.seconds, 1e-9)
    return {
        "run_partitions": dg.MetadataValue.int(len(loaded.partitions)),
        "run_files": dg.MetadataValue.int(loaded.files),
        "run_rows_loaded": dg.MetadataValue.int(loaded.rows_loaded),
        "run_rows_rejected": dg.MetadataValue.int(loaded.rows_rejected),
        "run_seconds": dg.MetadataValue.float(round(loaded.seconds, 3)),
        "run_rows_per_second": dg.MetadataValue.int(
            round((loaded.rows_loaded + loaded.rows_rejected) / seconds)
        ),
        "preview": dg.MetadataValue.md(preview_markdown(loaded.preview)),
    }


def summary_line(loaded: RangeLoad) -> str:
    rows = loaded.rows_loaded + loaded.rows_rejected
    return (
        f"{loaded.source}: {loaded.files} file(s) over {len(loaded.partitions)} day(s), "
        f"{loaded.rows_loaded} rows loaded + {loaded.rows_rejected} rejected in "
        f"{loaded.seconds:.2f} s ({rows / max(loaded.seconds, 1e-9):,.0f} rows/s)"
    )


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
        days = [date.fromisoformat(key) for key in context.partition_keys]
        with warehouse.connect() as con:
            loaded = load_partitions(con, source, days, root)
            reconciliations = reconcile_partitions(con, source, days, root)
        warnings = [w for result in loaded.partitions for w in result.warnings]
        if warnings:
            more = len(warnings) - MAX_LOGGED_WARNINGS
            context.log.warning(
                "\n".join(warnings[:MAX_LOGGED_WARNINGS])
                + (f"\n… and {more} more warning(s)" if more > 0 else "")
            )
        context.log.info(summary_line(loaded))
        for result in loaded.partitions:
            context.add_asset_metadata(
                materialization_metadata(result), partition_key=result.partition_date.isoformat()
            )
        # The run's totals and its one preview go on the range's last day only.
        context.add_asset_metadata(
            run_summary_metadata(loaded), partition_key=context.partition_keys[-1]
        )
        return dg.MaterializeResult(check_results=[reconcile_check_result(source, reconciliations)])

    return _ingest


def ingestion_assets() -> list[dg.AssetsDefinition]:
    return [build_ingestion_asset(source) for source in SOURCES]
