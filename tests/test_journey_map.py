"""The journey map (issue 9, section 5) on a small real warehouse: demo exports → raw.* →
`dbt build` → marts.agg_journey_map_links, its link volumes recomputed here in Python from
fct_touchpoints (and the same recomputation checked against agg_paths), and the drawing: the
PNG in the Dagster metadata of marts/agg_paths and the files beside the serving copy.
"""

from __future__ import annotations

import base64
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.demo import generate
from orchestration.resources import WarehouseResource
from orchestration.transform.journey_map import (
    PNG_SIGNATURE,
    read_links,
    render_png,
    write_journey_map,
)
from orchestration.transform.metadata import enrich_outputs
from tests.test_dbt_core import dbt, load_days

START = date(2026, 1, 1)
DAYS = 30
MAX_STEPS = 5  # dbt_project.yml: journey_map_max_steps, paths_max_touches


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journey_map")
    landing = root / "landing"
    generate(landing, root / "truth", people=300, days=DAYS, seed=11, start=START)
    path = root / "warehouse.duckdb"
    load_days(path, landing, 1, DAYS)
    # Tests of other marts need models this selection does not build: only those whose
    # parents are all selected run.
    dbt(
        path,
        "build",
        *("--select", "+agg_journey_map_links", "+agg_paths"),
        *("--indirect-selection", "cautious"),
    )
    return path


def journeys(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[list[str], bool]]:
    """Per known customer: the collapsed channel sequence of marketing touches up to the
    conversion, and whether they converted (independent of the dbt SQL)."""
    converted_at = dict(
        con.execute(
            "select customer_id, converted_at from intermediate.int_attribution_conversions"
        ).fetchall()
    )
    customers = [
        row[0]
        for row in con.execute(
            "select customer_id from intermediate.int_funnel_known_customers"
        ).fetchall()
    ]
    touches = con.execute("""
        select customer_id, touched_at, touchpoint_id, channel from marts.fct_touchpoints
        where touch_type in ('web_session', 'email_open', 'email_click')
        order by customer_id, touched_at, touchpoint_id
    """).fetchall()
    sequences: dict[str, list[str]] = defaultdict(list)
    for customer, touched_at, _, channel in touches:
        limit = converted_at.get(customer)
        if limit is not None and touched_at > limit:
            continue
        if not sequences[customer] or sequences[customer][-1] != channel:
            sequences[customer].append(channel)
    return {c: (sequences.get(c, []), c in converted_at) for c in customers}


def test_link_volumes_equal_counts_recomputed_from_touchpoints(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        per_customer = journeys(con)
        mart = {
            (step, from_node, to_node): (n, converting)
            for step, from_node, to_node, n, converting in con.execute(
                "select step, from_node, to_node, journeys, converting_journeys "
                "from marts.agg_journey_map_links"
            ).fetchall()
        }
    expected: Counter = Counter()
    expected_converting: Counter = Counter()
    for sequence, converting in per_customer.values():
        nodes = (sequence or ["(none)"])[:MAX_STEPS]
        links = [(i + 1, a, b) for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))]
        links.append((len(nodes), nodes[-1], "purchase" if converting else "drop_off"))
        for link in links:
            expected[link] += 1
            expected_converting[link] += converting
    assert {k: (v, expected_converting[k]) for k, v in expected.items()} == mart
    assert len(per_customer) > 150  # a real population, not an empty mart
    assert sum(n for (_, _, to), (n, _) in mart.items() if to in ("purchase", "drop_off")) == len(
        per_customer
    )


def test_recomputed_journeys_are_agg_paths_paths(warehouse: Path) -> None:
    """The Python journeys above, cut to agg_paths' last var('paths_max_touches') steps, give
    exactly agg_paths: the map and the paths mart describe the same journeys."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        per_customer = journeys(con)
        paths = {
            path: (total, converting)
            for path, total, converting in con.execute(
                "select path, total_customers, converting_customers from marts.agg_paths"
            ).fetchall()
        }
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sequence, converting in per_customer.values():
        path = " > ".join(sequence[-MAX_STEPS:]) or "(none)"
        expected[path][0] += 1
        expected[path][1] += converting
    assert {path: tuple(counts) for path, counts in expected.items()} == paths


def _is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE) and len(data) > 10_000


def test_journey_map_renders_in_metadata_and_beside_the_serving_copy(
    warehouse: Path, tmp_path: Path
) -> None:
    # The Dagster metadata of marts/agg_paths, through the same function the dbt asset calls.
    output = dg.Output(None, output_name="marts__agg_paths")
    (enriched,) = enrich_outputs(
        [output], {"marts__agg_paths": "marts.agg_paths"}, WarehouseResource(path=str(warehouse))
    )
    markdown = enriched.metadata["journey_map"].value
    encoded = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1)
    assert _is_png(base64.b64decode(encoded))

    with duckdb.connect(str(warehouse), read_only=True) as con:
        written = write_journey_map(con, tmp_path)
        links = read_links(con)
    assert [path.name for path in written] == ["journey_map.png", "journey_map.html"]
    assert _is_png((tmp_path / "journey_map.png").read_bytes())
    page = (tmp_path / "journey_map.html").read_text()
    assert "data:image/png;base64," in page and "<table>" in page
    busiest = max(links, key=lambda link: link.journeys)
    assert f"<td>{busiest.journeys:,}</td>" in page
    # No mart yet (a partial build): an empty map, no files.
    assert render_png([]).startswith(PNG_SIGNATURE)
    with duckdb.connect() as empty:
        assert write_journey_map(empty, tmp_path / "none") == []
