"""Flagged journey metrics as a chart on the `marts/agg_journey_anomalies` asset page: for
each metric (and dimension) with an anomaly in the last weeks, its daily value, the expected
range (the baseline's band) and the flagged days; below it, the latest alerts as a table
(day, metric, value, expected range, score), which the WARN check only counts.

Registered in metadata.CHARTS; read after `dbt build` like the other charts.
"""

from __future__ import annotations

import dagster as dg
import duckdb

ANOMALIES_KEY = dg.AssetKey(["marts", "agg_journey_anomalies"])
CHART_DAYS = 56  # the window shown: eight weeks up to the latest day
MAX_PANELS = 8  # the most recently flagged series first
MAX_TABLE_ROWS = 20


def anomaly_chart(con: duckdb.DuckDBPyConnection) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Imported here: metadata imports this module to register the chart.
    from orchestration.transform.metadata import _figure_png, png_markdown

    (latest,) = con.execute("select max(metric_date) from marts.agg_journey_anomalies").fetchone()
    if latest is None:
        return dg.MetadataValue.md("**Journey anomalies**\n\nNo metric days yet.")
    flagged = con.execute(
        f"""
        select metric, dimension, max(metric_date) as last_flagged, count(*) as flags
        from marts.agg_journey_anomalies
        where is_anomaly and metric_date > ? - interval {CHART_DAYS} day
        group by metric, dimension
        order by last_flagged desc, flags desc, metric, dimension
        limit ?
        """,
        [latest, MAX_PANELS],
    ).fetchall()
    if not flagged:
        return dg.MetadataValue.md(
            f"**Journey anomalies**\n\nNo metric outside its expected range in the "
            f"{CHART_DAYS} days up to {latest}."
        )
    figure, axes = plt.subplots(
        len(flagged), 1, figsize=(9, 2.1 * len(flagged) + 0.6), squeeze=False
    )
    for axis, (metric, dimension, _, flags) in zip(axes[:, 0], flagged, strict=True):
        rows = con.execute(
            f"""
            select metric_date, metric_value, expected_value, lower_bound, upper_bound,
                is_anomaly
            from marts.agg_journey_anomalies
            where metric = ? and dimension = ? and metric_date > ? - interval {CHART_DAYS} day
            order by metric_date
            """,
            [metric, dimension, latest],
        ).fetchall()
        days = [r[0] for r in rows]
        band = [(d, lo, hi) for d, _, _, lo, hi, _ in rows if lo is not None]
        if band:
            axis.fill_between(
                [b[0] for b in band],
                [b[1] for b in band],
                [b[2] for b in band],
                color="#4f6bed",
                alpha=0.18,
                label="expected range",
            )
        axis.plot(days, [r[2] for r in rows], color="#4f6bed", lw=0.8, ls="--", label="expected")
        axis.plot(days, [r[1] for r in rows], color="#222222", lw=1.2, label="value")
        hits = [(r[0], r[1]) for r in rows if r[5]]
        axis.scatter([h[0] for h in hits], [h[1] for h in hits], color="#d9534f", zorder=3)
        label = metric if dimension == "(all)" else f"{metric} · {dimension}"
        axis.set_title(f"{label} ({flags} flagged day{'s' if flags > 1 else ''})", size=9)
        axis.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    figure.suptitle(f"Flagged journey metrics, {CHART_DAYS} days to {latest}", size=10)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    png = _figure_png(figure)
    plt.close(figure)
    chart = png_markdown("Flagged journey metrics", png).value
    return dg.MetadataValue.md(f"{chart}\n\n{_alert_table(con, latest)}")


def _alert_table(con: duckdb.DuckDBPyConnection, latest) -> str:
    """The latest alerts as a table: what the WARN check counts, named."""
    rows = con.execute(
        f"""
        select metric_date, metric, dimension, metric_value, lower_bound, upper_bound,
            anomaly_score, severity
        from marts.agg_journey_anomalies
        where is_anomaly and metric_date > ? - interval {CHART_DAYS} day
        order by metric_date desc, abs(anomaly_score) desc
        limit ?
        """,
        [latest, MAX_TABLE_ROWS],
    ).fetchall()
    lines = [
        "| day | metric | dimension | value | expected range | score | severity |",
        "|---|---|---|---:|---|---:|---|",
    ]
    lines += [
        f"| {day} | {metric} | {dimension} | {value:,.4g} | {low:,.4g} – {high:,.4g} "
        f"| {score:+.1f} | {severity} |"
        for day, metric, dimension, value, low, high, score, severity in rows
    ]
    return "\n".join(lines)
