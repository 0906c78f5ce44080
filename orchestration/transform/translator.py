"""How dbt resources appear in Dagster."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.ingest.assets import raw_asset_key

# Model folders (models/<layer>/...) become asset groups.
LAYERS = ("staging", "intermediate", "marts")
# Marts are refreshed daily: warn when a refresh is missed, fail after two.
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
)


class JourneyDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the ingestion assets `raw/<table>`; models are grouped by layer;
    dbt tests stay asset checks (the dagster-dbt default, made explicit)."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props.get("meta", {}).get("dagster", {}).get("asset_key"):
                # A key set in the yml (e.g. the scores, written by marts/customer_scores).
                return super().get_asset_key(dbt_resource_props)
            if dbt_resource_props.get("schema") == "privacy":
                # The erasure tombstone and log: written by the privacy_erasure asset.
                return dg.AssetKey(["privacy", dbt_resource_props["identifier"]])
            # e.g. source segment.web_events -> the ingestion asset raw/web_events.
            return raw_asset_key(dbt_resource_props["identifier"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        # fqn = [project, <folder>, ..., <name>] for models.
        if len(fqn) > 2 and fqn[1] in LAYERS:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        layer = self.get_group_name(dbt_resource_props) or "other"
        return {**super().get_tags(dbt_resource_props), "layer": layer}

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> Any:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.group_name == "marts":
            # The BI interface: refreshed daily at 02:00 UTC, so a day and a bit is late.
            spec = spec.replace_attributes(freshness_policy=MARTS_FRESHNESS)
        return spec
