"""One monthly-partitioned asset per source: the daily landing files of a month → `raw.<source>`.

A partition is a calendar month of daily files (`<landing>/<source>/<YYYY-MM-DD>.<ext>`);
every day keeps its own rows (`_partition_date`) and is replaced as a whole. Months, not days:
Dagster writes two event-log entries per partition and asset (~10-40 ms each on SQLite), which
for 8 sources x 255 days cost more than loading the files; a month of files loads in one set-
based statement anyway (docs/decisions.md). Assets are thin: they call
`loaders.load_partitions` once for the run's days (a few DuckDB statements, one transaction)
and attach metadata. A backfill of many months is one run (single-run backfill policy); if a
file cannot be read the run fails naming it and no day of the range changes.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from orchestration.ingest.loaders import (
    LoadResult,
    RangeLoad,
    Reconciliation,
    RejectRate,
    load_partitions,
    reconcile_partitions,
    reject_rate,
)
from orchestration.ingest.sentiment import (
    DERIVED_RAW_TABLES,
    SENTIMENT_SOURCE,
    SENTIMENT_TABLE_NAME,
    SentimentLoad,
)
from orchestration.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from orchestration.settings import SOURCES, get_settings

INGESTION_GROUP = "ingestion"
PREVIEW_CELL_CHARS = 60
# Warnings logged per run; the rest are counted (a sparse source warns once per empty day).
MAX_LOGGED_WARNINGS = 20


@functools.cache
def _monthly_partitions(first_month: str) -> dg.MonthlyPartitionsDefinition:
    # end_offset=1: the current month is a partition too, so today's files can be loaded.
    return dg.MonthlyPartitionsDefinition(start_date=first_month, timezone="UTC", end_offset=1)


def export_partitions() -> dg.MonthlyPartitionsDefinition:
    """The monthly partitions of the ingestion assets, from the month of the first export day
    (settings.first_partition_date). Cached per start so that every asset and job shares one
    definition; read when definitions are built, not at import."""
    first = date.fromisoformat(get_settings().first_partition_date)
    return _monthly_partitions(first.replace(day=1).isoformat())


def month_key(day: date | str) -> str:
    """The partition key of the month a day belongs to."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return day.replace(day=1).isoformat()


def days_of(window: dg.TimeWindow, first_day: date, last_day: date | None = None) -> list[date]:
    """Days of a partition window from first_day up to today (UTC) or last_day."""
    last = min(last_day or date.max, datetime.now(UTC).date())
    day = max(window.start.date(), first_day)
    days = []
    while day < window.end.date() and day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


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


def derived_raw_specs() -> list[dg.AssetSpec]:
    """Raw tables an ingestion asset writes beside its own (ticket sentiment, written with the
    tickets): in the graph downstream of that asset, so that dbt's source of them is not a
    stray external asset; the parent's run records their materialization."""
    return [
        dg.AssetSpec(
            key=raw_asset_key(table),
            deps=[raw_asset_key(parent)],
            # Not in the `ingestion` group: selecting a group must give assets that can be
            # launched (a backfill of the group), and this one is written by its parent only.
            kinds={"duckdb"},
            owners=["team:data-engineering"],
            tags={"layer": "raw"},
            description=(
                f"`raw.{table}`, written by `raw/{parent}` with every load of its days "
                f"(one row per {parent} version, keyed by `{id_column}`); see "
                'docs/ingestion.md, "Ticket sentiment".'
            ),
        )
        for table, parent, id_column in DERIVED_RAW_TABLES
    ]


class IngestConfig(dg.Config):
    """Narrow a run to some days of its months (`journey ingest --from/--to`); by default a
    run loads every day of its months up to today."""

    first_day: str | None = None
    last_day: str | None = None


def month_metadata(results: Sequence[LoadResult]) -> dict[str, Any]:
    """Small per-month metadata: the UI shows what each month holds, file by file."""
    loaded = [r for r in results if not r.missing]
    files = "\n".join(
        f"{r.source_file}: {r.rows_loaded:,} loaded, {r.rows_rejected:,} rejected" for r in loaded
    )
    warnings = [w for r in loaded for w in r.warnings]
    return {
        "dagster/row_count": dg.MetadataValue.int(sum(r.rows_loaded for r in results)),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in results)),
        "rows_rejected": dg.MetadataValue.int(sum(r.rows_rejected for r in results)),
        "lines_read": dg.MetadataValue.int(sum(r.lines_read for r in results)),
        "blank_lines": dg.MetadataValue.int(sum(r.blank_lines for r in results)),
        "file_bytes": dg.MetadataValue.int(sum(r.file_bytes for r in results)),
        "days_loaded": dg.MetadataValue.int(len(results)),
        "files": dg.MetadataValue.int(len(loaded)),
        "files_loaded": dg.MetadataValue.md(files or "_no file this month_"),
        "warnings": dg.MetadataValue.text("\n".join(warnings[:MAX_LOGGED_WARNINGS]) or "none"),
    }


def sentiment_metadata(sentiment: SentimentLoad) -> dict[str, Any]:
    """raw.support_ticket_sentiment, written with the tickets (ingest/sentiment.py)."""
    return {
        "sentiment_rows_scored": dg.MetadataValue.int(sentiment.rows_scored),
        "sentiment_labels": dg.MetadataValue.text(
            f"negative {sentiment.negative:,}, neutral {sentiment.neutral:,}, "
            f"positive {sentiment.positive:,}"
        ),
        "sentiment_scorer": dg.MetadataValue.text(sentiment.scorer_version),
    }


def run_summary_metadata(loaded: RangeLoad) -> dict[str, Any]:
    """Once per run: totals of the range and one preview (personal data masked, issue 12)."""
    seconds = max(loaded.seconds, 1e-9)
    scored = sentiment_metadata(loaded.sentiment) if loaded.sentiment is not None else {}
    return scored | {
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
    source: str, reconciliations: Sequence[Reconciliation], rejects: RejectRate | None = None
) -> dg.AssetCheckResult:
    """Lines in = rows loaded + rows rejected for every file, and (issue 12) not too many of
    them rejected: a file rejected wholesale reconciles, yet loaded nothing."""
    failures = [r for r in reconciliations if not r.passed]
    too_many_rejects = rejects is not None and not rejects.passed
    problems = []
    if failures:
        problems.append(f"{len(failures)} file(s) where lines read != rows loaded + rows rejected")
    if too_many_rejects:
        assert rejects is not None
        problems.append(rejects.describe())
    metadata: dict[str, Any] = {
        "partitions_checked": len(reconciliations),
        "lines_in_files": sum(r.lines_in_file for r in reconciliations),
        "rows_loaded": sum(r.rows_loaded for r in reconciliations),
        "rows_rejected": sum(r.rows_rejected for r in reconciliations),
        "mismatches": dg.MetadataValue.text("\n".join(r.describe() for r in failures) or "none"),
    }
    if rejects is not None:
        metadata |= {
            "reject_rate": dg.MetadataValue.float(round(rejects.rate, 6)),
            "max_reject_rate": dg.MetadataValue.float(rejects.limit.max_rate),
            "files_over_reject_rate": dg.MetadataValue.text(
                "\n".join(rejects.files_over) or "none"
            ),
            "top_reject_reasons": dg.MetadataValue.text("\n".join(rejects.top_reasons) or "none"),
        }
    return dg.AssetCheckResult(
        check_name=reconcile_check_name(source),
        asset_key=raw_asset_key(source),
        passed=not problems,
        metadata=metadata,
        description="\n".join(problems) or None,
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
        partitions_def=export_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        description=(
            f"The daily `{source}` exports of a month (`<landing>/{source}/<day>."
            f"{SOURCES[source]}`) loaded into `raw.{source}`, each day replaced as a whole; "
            f"unreadable lines go to `raw.{source}__rejected`. Contract: docs/raw_tables.md."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                check_name,
                asset=key,
                blocking=True,
                description=(
                    "Every data line of the file is either loaded or rejected, and at most "
                    "JOURNEY_MAX_REJECT_RATE (5 %) of them rejected, per file and over the run."
                ),
            )
        ],
    )
    def _ingest(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        landing: LandingResource,
    ) -> dg.MaterializeResult:
        root = landing.root_path
        first_day = date.fromisoformat(config.first_day or get_settings().first_partition_date)
        last_day = date.fromisoformat(config.last_day) if config.last_day else None
        days = days_of(context.partition_time_window, first_day, last_day)
        with warehouse.connect() as con:
            loaded = load_partitions(con, source, days, root)
            reconciliations = reconcile_partitions(con, source, days, root)
            rejects = reject_rate(con, source, reconciliations, days)
        warnings = [w for result in loaded.partitions for w in result.warnings]
        if warnings:
            more = len(warnings) - MAX_LOGGED_WARNINGS
            context.log.warning(
                "\n".join(warnings[:MAX_LOGGED_WARNINGS])
                + (f"\n… and {more} more warning(s)" if more > 0 else "")
            )
        context.log.info(summary_line(loaded))
        for month in context.partition_keys:
            results = [r for r in loaded.partitions if month_key(r.partition_date) == month]
            context.add_asset_metadata(month_metadata(results), partition_key=month)
        # The run's totals and its one preview go on the range's last month only.
        context.add_asset_metadata(
            run_summary_metadata(loaded), partition_key=context.partition_keys[-1]
        )
        if loaded.sentiment is not None:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=raw_asset_key(SENTIMENT_TABLE_NAME),
                    description=f"Scores of the {SENTIMENT_SOURCE} days of this run.",
                    metadata=sentiment_metadata(loaded.sentiment),
                )
            )
        if not rejects.passed:
            context.log.error(rejects.describe())
        return dg.MaterializeResult(
            check_results=[reconcile_check_result(source, reconciliations, rejects)]
        )

    return _ingest


def ingestion_assets() -> list[dg.AssetsDefinition]:
    return [build_ingestion_asset(source) for source in SOURCES]
