"""Definitions of the transform domain, merged by orchestration/definitions.py."""

from __future__ import annotations

import dagster as dg

from orchestration.transform.assets import journey_dbt_assets, journey_dbt_score_marts
from orchestration.transform.project import dbt_cli_resource


def transform_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[journey_dbt_assets(), journey_dbt_score_marts()],
        resources={"dbt": dbt_cli_resource()},
    )
