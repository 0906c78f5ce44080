"""The journey map: a Sankey diagram of marts.agg_journey_map_links, drawn with matplotlib.

The links (step, from channel → next channel or outcome, journeys, conversion) are computed in
dbt; this module only draws them: one column of stacked nodes per step (a channel's height is
its journeys), the outcomes 'purchase' and 'drop_off' in a last column, and one bezier ribbon
per link, as wide as its journeys and coloured by its source channel. The busiest links carry
their volume and the conversion of the people on them. Rendering needs no browser and no
network (Agg backend), so it runs inside the Dagster process and in the serving step.
"""

from __future__ import annotations

import html
import io
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

PATHS_KEY = dg.AssetKey(["marts", "agg_paths"])
LINKS_RELATION = "marts.agg_journey_map_links"
OUTCOMES = ("purchase", "drop_off")
OUTCOME_COLOURS = {"purchase": "#2e9d5b", "drop_off": "#b9bec7"}
LABELLED_LINKS = 12  # the busiest links get a "journeys · conversion" label
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Link:
    step: int
    from_node: str
    to_node: str
    to_node_type: str  # 'channel' or 'outcome'
    journeys: int
    converting_journeys: int

    @property
    def conversion_rate(self) -> float:
        return self.converting_journeys / self.journeys if self.journeys else 0.0


def read_links(con: duckdb.DuckDBPyConnection) -> list[Link]:
    """The mart's links; empty when the mart does not exist yet (e.g. a partial build)."""
    try:
        rows = con.execute(
            f"""
            select step, from_node, to_node, to_node_type, journeys, converting_journeys
            from {LINKS_RELATION} order by step, from_node, to_node
            """
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [Link(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5])) for r in rows]


def _node_key(link: Link, side: str, last_column: int) -> tuple[int, str]:
    """Column and name of a link's source or target node (outcomes share the last column)."""
    if side == "from":
        return link.step, link.from_node
    if link.to_node_type == "outcome":
        return last_column, link.to_node
    return link.step + 1, link.to_node


def render_png(links: list[Link], title: str = "Journey map") -> bytes:
    """Draw the Sankey of `links` and return the PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as BezierPath

    figure, axis = plt.subplots(figsize=(12, 6.5))
    axis.set_axis_off()
    if not links:
        axis.text(0.5, 0.5, "no journeys yet", ha="center", va="center")
        return _png(figure)

    last_column = max(link.step for link in links) + 1
    total = sum(link.journeys for link in links if link.to_node_type == "outcome")
    volume_in: dict[tuple[int, str], int] = defaultdict(int)
    volume_out: dict[tuple[int, str], int] = defaultdict(int)
    for link in links:
        volume_out[_node_key(link, "from", last_column)] += link.journeys
        volume_in[_node_key(link, "to", last_column)] += link.journeys
    nodes = set(volume_in) | set(volume_out)
    volume = {node: max(volume_in[node], volume_out[node]) for node in nodes}
    # One channel order in every column (busiest overall first) so the eye can follow a
    # channel across steps; the outcomes purchase over drop-off.
    channel_totals: dict[str, int] = defaultdict(int)
    for (_, name), v in volume.items():
        channel_totals[name] += v
    busiest = sorted(channel_totals, key=lambda name: (-channel_totals[name], name))
    order = {name: rank for rank, name in enumerate(busiest)}
    order.update({outcome: -len(OUTCOMES) + i for i, outcome in enumerate(OUTCOMES)})
    # Ten distinct colours first (tab10), then tab20's lighter shades for rarer channels.
    palette = plt.get_cmap("tab10").colors + plt.get_cmap("tab20").colors[1::2]
    colours = {
        name: OUTCOME_COLOURS.get(name, palette[rank % len(palette)])
        for name, rank in order.items()
    }

    gap = 0.025 * total
    node_width = 0.12
    top: dict[tuple[int, str], float] = {}  # y of a node's top edge (y grows downwards)
    for column in range(1, last_column + 1):
        y = 0.0
        for node in sorted((n for n in nodes if n[0] == column), key=lambda n: order[n[1]]):
            top[node] = y
            y += volume[node] + gap

    # Ribbons leave a node in the order of their targets and enter in the order of their
    # sources, so they do not cross inside a node.
    def target_position(link: Link) -> tuple[int, float]:
        node = _node_key(link, "to", last_column)
        return node[0], top[node]

    def source_position(link: Link) -> tuple[int, float]:
        node = _node_key(link, "from", last_column)
        return node[0], top[node]

    labelled = set(sorted(links, key=lambda link: -link.journeys)[:LABELLED_LINKS])
    out_offset: dict[tuple[int, str], float] = defaultdict(float)
    in_offset: dict[tuple[int, str], float] = defaultdict(float)
    in_start: dict[Link, float] = {}
    for link in sorted(links, key=source_position):
        node = _node_key(link, "to", last_column)
        in_start[link] = top[node] + in_offset[node]
        in_offset[node] += link.journeys
    for link in sorted(links, key=target_position):
        source = _node_key(link, "from", last_column)
        target = _node_key(link, "to", last_column)
        y0 = top[source] + out_offset[source]
        out_offset[source] += link.journeys
        y1 = in_start[link]
        x0, x1 = source[0] + node_width / 2, target[0] - node_width / 2
        middle = (x0 + x1) / 2
        height = link.journeys
        vertices = [
            (x0, y0),
            (middle, y0),
            (middle, y1),
            (x1, y1),
            (x1, y1 + height),
            (middle, y1 + height),
            (middle, y0 + height),
            (x0, y0 + height),
            (x0, y0),
        ]
        codes = [BezierPath.MOVETO, *[BezierPath.CURVE4] * 3, BezierPath.LINETO]
        codes += [*[BezierPath.CURVE4] * 3, BezierPath.CLOSEPOLY]
        axis.add_patch(
            PathPatch(
                BezierPath(vertices, codes),
                facecolor=colours[link.from_node],
                edgecolor="none",
                alpha=0.35,
            )
        )
        if link in labelled:
            axis.text(
                middle,
                (y0 + y1) / 2 + height / 2,
                f"{link.journeys:,} · {link.conversion_rate:.0%}",
                ha="center",
                va="center",
                fontsize=6.5,
                color="#333333",
            )

    for node in nodes:
        column, name = node
        axis.add_patch(
            Rectangle(
                (column - node_width / 2, top[node]),
                node_width,
                volume[node],
                facecolor=colours[name],
                edgecolor="white",
            )
        )
        if volume[node] >= 0.015 * total:
            label = f"{name}\n{volume[node]:,}"
            axis.text(
                column + node_width / 2 + 0.02,
                top[node] + volume[node] / 2,
                label,
                va="center",
                fontsize=7,
            )

    axis.set_xlim(0.7, last_column + 0.6)
    axis.set_ylim(max(top[n] + volume[n] for n in nodes) + gap, -gap)
    steps = [f"step {s}" for s in range(1, last_column)] + ["outcome"]
    for column, text in enumerate(steps, start=1):
        axis.text(column, -gap * 0.5, text, ha="center", va="bottom", fontsize=8, weight="bold")
    converted = sum(link.journeys for link in links if link.to_node == "purchase")
    axis.set_title(
        f"{title}: {total:,} journeys from the first marketing touch, "
        f"{converted / total:.1%} to purchase (labels: journeys · conversion)",
        fontsize=10,
    )
    return _png(figure)


def _png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def journey_map_chart(con: duckdb.DuckDBPyConnection) -> dg.MetadataValue:
    """The journey map as markdown metadata (an embedded PNG) for marts/agg_paths."""
    # Imported here: metadata.py imports this module to register the chart.
    from orchestration.transform.metadata import png_markdown

    return png_markdown("Journey map", render_png(read_links(con)))


def render_html(links: list[Link], png: bytes, top: int = 25) -> str:
    """A self-contained page: the map (embedded PNG) and the busiest links as a table."""
    import base64

    rows = "\n".join(
        f"<tr><td>{link.step}</td><td>{html.escape(link.from_node)}</td>"
        f"<td>{html.escape(link.to_node)}</td><td>{link.journeys:,}</td>"
        f"<td>{link.conversion_rate:.1%}</td></tr>"
        for link in sorted(links, key=lambda link: -link.journeys)[:top]
    )
    image = base64.b64encode(png).decode()
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'><title>Journey map</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;"
        "text-align:left}</style></head><body>\n<h1>Journey map</h1>\n"
        "<p>Known customers' marketing-channel journeys from the first touch to purchase or "
        "drop-off (marts.agg_journey_map_links; docs/marts.md).</p>\n"
        f"<img alt='journey map' src='data:image/png;base64,{image}'>\n"
        f"<h2>The {top} busiest links</h2>\n<table><tr><th>step</th><th>from</th><th>to</th>"
        f"<th>journeys</th><th>conversion</th></tr>\n{rows}\n</table>\n</body></html>\n"
    )


def write_journey_map(con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """Write journey_map.png and journey_map.html into `directory` (each replaced atomically,
    like the serving copy); nothing when the mart does not exist."""
    links = read_links(con)
    if not links:
        return []
    png = render_png(links)
    written = []
    for name, content in (
        ("journey_map.png", png),
        ("journey_map.html", render_html(links, png).encode()),
    ):
        path = directory / name
        staging = path.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
        staging.write_bytes(content)
        os.replace(staging, path)
        written.append(path)
    return written
