"""The Dagster code location: one `Definitions` merged from small per-domain modules.

Each domain package exposes `build_defs() -> dg.Definitions` with its assets, checks, jobs,
schedules and sensors. Shared resources are defined once, here, from the settings, so that
two domains never construct conflicting resources under the same key.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings

import dagster as dg

from orchestration.resources import LandingResource, WarehouseResource

# In flow order (docs/STYLE: one direction of flow). A domain whose package does not exist yet
# is skipped, so the code location loads while the project is being built up.
DOMAIN_PACKAGES: tuple[str, ...] = (
    "orchestration.ingest",
    "orchestration.transform",  # dbt assets
    "orchestration.ml",  # train / score assets
    "orchestration.serve",  # read-only copy of the marts for BI tools
    "orchestration.automation",  # jobs, schedules
)


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource.from_settings(),
        "landing": LandingResource.from_settings(),
    }


def domain_definitions(packages: tuple[str, ...] = DOMAIN_PACKAGES) -> list[dg.Definitions]:
    found = []
    for name in packages:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        build_defs = getattr(module, "build_defs", None)
        if build_defs is None:
            warnings.warn(
                f"{name} has no build_defs(); its assets are not part of the code location",
                stacklevel=2,
            )
            continue
        found.append(build_defs())
    return found


def build_definitions() -> dg.Definitions:
    # In-process executor: the steps of a run share one process. Nearly every step writes the
    # DuckDB file and so runs alone on the `duckdb_warehouse` pool anyway; separate processes
    # would only add ~5 s of start-up (imports) to each of them. Pools still apply across runs.
    return dg.Definitions.merge(
        *domain_definitions(),
        dg.Definitions(resources=build_resources(), executor=dg.in_process_executor),
    )


defs = build_definitions()
