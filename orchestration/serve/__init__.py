"""Serving: a read-only copy of the marts for BI tools, published after each refresh."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    from orchestration.serve.assets import serving_database

    return dg.Definitions(assets=[serving_database])
