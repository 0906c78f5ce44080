"""The top friction points as a chart on the `marts/agg_friction_points_all_time` asset page:
revenue at risk per (page, friction type), with the conversion gap and its 95 % interval.

Registered in metadata.CHARTS; read after `dbt build` like the other charts.
"""

from __future__ import annotations

import dagster as dg
import duckdb

FRICTION_KEY = dg.AssetKey(["marts", "agg_friction_points_all_time"])
TOP_FRICTION_POINTS = 10
MIN_SESSIONS_FOR_INTERVAL = 30


def friction_chart(con: duckdb.DuckDBPyConnection) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Imported here: metadata imports this module to register the chart.
    from orchestration.transform.metadata import _figure_png, png_markdown

    rows = con.execute(
        """
        select page_path, friction_type, sessions_affected, conversion_gap, gap_ci_low,
            gap_ci_high, coalesce(revenue_at_risk, 0)
        from marts.agg_friction_points_all_time
        order by friction_rank
        limit ?
        """,
        [TOP_FRICTION_POINTS],
    ).fetchall()[::-1]
    figure, axis = plt.subplots(figsize=(9, 0.45 * max(len(rows), 2) + 1.2))
    labels = [f"{page}  ·  {kind}" for page, kind, *_ in rows]
    revenue = [r[6] for r in rows]
    bars = axis.barh(labels, revenue, color="#d9534f")
    for bar, (_, _, affected, gap, low, high, _) in zip(bars, rows, strict=True):
        note = f"  {affected:,} sessions"
        if gap is not None:
            note += f", gap {gap:+.1%}"
            # Wald intervals of a few sessions (rates of 0 or 1) are too narrow to show.
            if affected >= MIN_SESSIONS_FOR_INTERVAL:
                note += f" [{low:+.1%}, {high:+.1%}]"
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, note, va="center", size=8)
    axis.set_xlim(0, max(revenue + [1.0]) * 1.8)
    axis.set_xlabel("revenue at risk = affected sessions × max(conversion gap, 0) × average order")
    axis.set_title(f"Top {len(rows)} friction points (all time)")
    png = _figure_png(figure)
    plt.close(figure)
    return png_markdown("Top friction points", png)
