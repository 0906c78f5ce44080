"""Jobs, schedules and sensors: how the asset graph is run day to day."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    from orchestration.automation.jobs import all_jobs
    from orchestration.automation.schedules import all_schedules

    return dg.Definitions(jobs=all_jobs(), schedules=all_schedules())
