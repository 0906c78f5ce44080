"""dbt models as Dagster assets (dagster-dbt): staging → intermediate → marts."""

from orchestration.transform.assets import DbtBuildConfig, build_dbt_vars, journey_dbt_assets
from orchestration.transform.definitions import transform_definitions
from orchestration.transform.project import dbt_project, prepare_manifest
from orchestration.transform.translator import JourneyDbtTranslator

__all__ = [
    "DbtBuildConfig",
    "JourneyDbtTranslator",
    "build_dbt_vars",
    "dbt_project",
    "journey_dbt_assets",
    "prepare_manifest",
    "transform_definitions",
]

# The name orchestration/definitions.py calls in every domain package.
build_defs = transform_definitions
