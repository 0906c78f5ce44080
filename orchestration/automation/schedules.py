"""Daily refresh at 02:00 UTC (yesterday's partition) and weekly retraining on Mondays 03:00 UTC."""

from __future__ import annotations

import dagster as dg

from orchestration.automation.jobs import daily_refresh_job, weekly_retrain_job


def all_schedules() -> list[dg.ScheduleDefinition]:
    daily = dg.build_schedule_from_partitioned_job(
        daily_refresh_job(),
        name="daily_refresh_schedule",
        hour_of_day=2,
        minute_of_hour=0,
        description="Every day at 02:00 UTC: refresh with yesterday's exports (last full day).",
    )
    weekly = dg.ScheduleDefinition(
        name="weekly_retrain_schedule",
        job=weekly_retrain_job(),
        cron_schedule="0 3 * * 1",
        execution_timezone="UTC",
        description="Mondays 03:00 UTC: retrain both models on the latest features.",
    )
    return [daily, weekly]
