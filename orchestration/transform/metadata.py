"""Metadata a person wants on the asset page without opening a notebook: row counts for
every dbt model, a funnel chart and an attribution chart, as embedded PNG images.

Read after `dbt build` has finished: DuckDB refuses a reader while the dbt process writes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import dagster as dg
import duckdb

from orchestration.resources import WarehouseResource
from orchestration.transform.anomaly_chart import ANOMALIES_KEY, anomaly_chart
from orchestration.transform.friction_chart import FRICTION_KEY, friction_chart
from orchestration.transform.journey_map import PATHS_KEY, journey_map_chart

FUNNEL_STAGES = ("awareness", "consideration", "evaluation", "purchase", "retention")
FUNNEL_KEY = dg.AssetKey(["marts", "agg_funnel_daily"])
ATTRIBUTION_KEY = dg.AssetKey(["marts", "agg_channel_attribution"])


def png_markdown(title: str, png: bytes) -> dg.MetadataValue:
    encoded = base64.b64encode(png).decode()
    return dg.MetadataValue.md(f"**{title}**\n\n![{title}](data:image/png;base64,{encoded})")


def _figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def funnel_chart(con: duckdb.DuckDBPyConnection) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sums = ", ".join(f"sum({stage}_customers)" for stage in FUNNEL_STAGES)
    counts = [
        int(v or 0) for v in con.execute(f"select {sums} from marts.agg_funnel_daily").fetchone()
    ]
    figure, axis = plt.subplots(figsize=(7, 3.2))
    bars = axis.barh(list(FUNNEL_STAGES)[::-1], counts[::-1], color="#4f6bed")
    for bar, count, previous in zip(bars, counts[::-1], ([None] + counts)[::-1][1:], strict=True):
        share = f"  {count:,}" + (f" ({count / previous:.0%})" if previous else "")
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, share, va="center")
    axis.set_xlabel("customers reaching the stage (all cohorts)")
    axis.set_xlim(0, max(counts + [1]) * 1.3)
    axis.set_title("Customer funnel")
    png = _figure_png(figure)
    plt.close(figure)
    return png_markdown("Funnel", png)


def attribution_chart(con: duckdb.DuckDBPyConnection) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = con.execute(
        """
        select channel, attribution_model, sum(conversions_credited)
        from marts.agg_channel_attribution group by 1, 2 order by 1, 2
        """
    ).fetchall()
    channels = sorted({r[0] for r in rows})
    models = sorted({r[1] for r in rows})
    credit = {(c, m): v for c, m, v in rows}
    figure, axis = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        xs = [j + i * width for j in range(len(channels))]
        axis.bar(xs, [credit.get((c, model), 0) for c in channels], width, label=model)
    axis.set_xticks([j + 0.4 - width / 2 for j in range(len(channels))], channels, rotation=20)
    axis.set_ylabel("conversions credited")
    axis.set_title("Conversions credited by channel and attribution model")
    axis.legend(fontsize=7, ncols=3)
    png = _figure_png(figure)
    plt.close(figure)
    return png_markdown("Attribution by channel and model", png)


CHARTS = {FUNNEL_KEY: funnel_chart, ATTRIBUTION_KEY: attribution_chart}
CHART_NAMES = {FUNNEL_KEY: "funnel_chart", ATTRIBUTION_KEY: "attribution_by_channel_chart"}
CHARTS[FRICTION_KEY] = friction_chart
CHART_NAMES[FRICTION_KEY] = "top_friction_points_chart"
CHARTS[PATHS_KEY] = journey_map_chart
CHART_NAMES[PATHS_KEY] = "journey_map"
CHARTS[ANOMALIES_KEY] = anomaly_chart
CHART_NAMES[ANOMALIES_KEY] = "flagged_metrics_chart"


FAILING_ROWS_SHOWN = 20


def _metadata_text(event: dg.AssetCheckResult, key: str) -> str | None:
    value = event.metadata.get(key)
    return None if value is None else str(getattr(value, "value", value))


def failing_rows(
    con: duckdb.DuckDBPyConnection, relation: str
) -> tuple[dg.MetadataValue, str | None] | None:
    """The stored failures of a dbt test as a markdown table (first FAILING_ROWS_SHOWN rows),
    and the first row's `alert` column when the test writes a readable sentence."""
    try:
        cursor = con.execute(f"select * from {relation} limit {FAILING_ROWS_SHOWN}")
    except duckdb.Error:
        return None
    columns = [c[0] for c in cursor.description]
    rows = cursor.fetchall()
    if not rows:
        return None
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    first_alert = str(rows[0][columns.index("alert")]) if "alert" in columns else None
    return dg.MetadataValue.md("\n".join(lines)), first_alert


def _with_failing_rows(
    events: list, failure_relations: Mapping[str, str], con: duckdb.DuckDBPyConnection
) -> list:
    """A failed or warned check of a dbt test that stores its failures shows the rows
    (e.g. which metric, its value and expected range), not only dbt's count."""
    enriched = []
    for event in events:
        unique_id = (
            _metadata_text(event, "unique_id") if isinstance(event, dg.AssetCheckResult) else None
        )
        shown = (
            failing_rows(con, failure_relations[unique_id])
            if unique_id in failure_relations and not event.passed
            else None
        )
        if shown is not None:
            table, alert = shown
            extra: dict = {"failing_rows": table}
            if alert:
                extra["first_failing_row"] = dg.MetadataValue.text(alert)
            event = event.with_metadata({**event.metadata, **extra})
        enriched.append(event)
    return enriched


def enrich_outputs(
    events: list,
    relations: Mapping[str, str],
    warehouse: WarehouseResource,
    failure_relations: Mapping[str, str] | None = None,
) -> list:
    """Add `dagster/row_count` (and charts where defined) to the dbt outputs of this run, and
    the stored failing rows to the checks of tests that keep them (`failure_relations`:
    test unique_id → its store_failures table)."""
    outputs = [e for e in events if isinstance(e, dg.Output) and e.output_name in relations]
    if not outputs and not failure_relations:
        return events
    extra: dict[str, dict] = {}
    with warehouse.connect(read_only=True) as con:
        if failure_relations:
            events = _with_failing_rows(events, failure_relations, con)
        for output in outputs:
            relation = relations[output.output_name]
            try:
                (count,) = con.execute(f"select count(*) from {relation}").fetchone()
            except duckdb.Error:
                continue  # e.g. an ephemeral model: nothing to count
            # The count is of the whole table: a partitioned model's run records it on every
            # partition of its range, so consumers must not add it up across partitions.
            extra[output.output_name] = {
                "dagster/row_count": int(count),
                "row_count_scope": "table",
            }
        for key, chart in CHARTS.items():
            name = key.to_python_identifier()
            if name in extra:
                extra[name][CHART_NAMES[key]] = chart(con)
    return [
        e.with_metadata({**e.metadata, **extra[e.output_name]})
        if isinstance(e, dg.Output) and e.output_name in extra
        else e
        for e in events
    ]
