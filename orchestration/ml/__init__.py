"""Models: train, register and promote in MLflow; score customers daily."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    from orchestration.ml.assets import ml_assets
    from orchestration.ml.resources import MlflowResource

    return dg.Definitions(
        assets=ml_assets(), resources={"mlflow_store": MlflowResource.from_settings()}
    )
