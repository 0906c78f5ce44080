"""Ingestion: landing files → `raw.*` tables in DuckDB, one daily-partitioned asset per source."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    """The ingestion assets, their checks and the landing-file sensor (resources come from
    `orchestration.definitions`)."""
    from orchestration.ingest.assets import derived_raw_specs, ingestion_assets
    from orchestration.ingest.sensors import landing_file_sensor

    return dg.Definitions(
        assets=[*ingestion_assets(), *derived_raw_specs()], sensors=[landing_file_sensor]
    )
