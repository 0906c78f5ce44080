"""Journey segments: cluster known customers by their journey, after every dbt build."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    from orchestration.segments.assets import journey_segments

    # The `mlflow_store` resource comes from the ml domain's Definitions.
    return dg.Definitions(assets=[journey_segments])
