"""The Dagster code location: one `Definitions` merged from small per-domain modules.

Each domain package exposes `build_defs() -> dg.Definitions` with its assets, checks, jobs,
schedules and sensors. Shared resources are defined once, here, from the settings, so that
two domains never construct conflicting resources under the same key.
"""

from __future__ import annotations

import dagster as dg

from orchestration import automation, ingest, privacy, segments, serve, transform
from orchestration import ml as ml_domain
from orchestration.resources import LandingResource, WarehouseResource

# In flow order (docs/STYLE: one direction of flow).
DOMAINS = (
    ingest,
    privacy,  # erasure requests applied before the dbt build
    transform,  # dbt assets
    ml_domain,  # train / score assets
    segments,  # journey segments (after dbt, like training)
    serve,  # read-only copy of the marts for BI tools
    automation,  # jobs, schedules
)


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource.from_settings(),
        "landing": LandingResource.from_settings(),
    }


def build_definitions() -> dg.Definitions:
    # In-process executor: the steps of a run share one process. Nearly every step writes the
    # DuckDB file and so runs alone on the `duckdb_warehouse` pool anyway; separate processes
    # would only add ~5 s of start-up (imports) to each of them. Pools still apply across runs.
    return dg.Definitions.merge(
        *(domain.build_defs() for domain in DOMAINS),
        dg.Definitions(resources=build_resources(), executor=dg.in_process_executor),
    )


defs = build_definitions()
