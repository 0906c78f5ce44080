"""Privacy: erasure requests applied everywhere (tombstones, deletes, landing rewrite, audit
log) before each dbt build, and the keyed pseudonyms (docs/privacy.md)."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    from orchestration.privacy.assets import privacy_erasure

    return dg.Definitions(assets=[privacy_erasure])
