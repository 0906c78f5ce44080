"""MLflow as a Dagster resource: where runs and the registry live, and where the UI is."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.settings import get_settings


class MlflowResource(dg.ConfigurableResource):
    tracking_uri: str
    # Only used to build links in asset metadata; `make mlflow-ui` serves it here.
    ui_url: str = "http://127.0.0.1:5000"

    @classmethod
    def from_settings(cls) -> MlflowResource:
        return cls(
            tracking_uri=get_settings().mlflow_tracking_uri,
            ui_url=os.environ.get("JOURNEY_MLFLOW_UI_URL", "http://127.0.0.1:5000"),
        )

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url}/#/experiments/{experiment_id}/runs/{run_id}"

    def model_url(self, model_name: str, version: str) -> str:
        return f"{self.ui_url}/#/models/{model_name}/versions/{version}"
