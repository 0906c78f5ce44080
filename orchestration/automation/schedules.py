"""Daily refresh at 02:00 UTC (yesterday's exports) and weekly retraining on Mondays 03:00 UTC."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from orchestration.automation.jobs import daily_refresh_job, weekly_retrain_job
from orchestration.ingest.assets import month_key
from orchestration.run_config import day_run_config


@dg.schedule(
    name="daily_refresh_schedule",
    job=daily_refresh_job(),
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description=(
        "Every day at 02:00 UTC: load yesterday's exports (the last full day), dbt build over "
        "that day, score it, publish the serving copy."
    ),
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(
        run_key=yesterday,
        partition_key=month_key(yesterday),
        run_config=day_run_config(yesterday, yesterday),
    )


def all_schedules() -> list[dg.ScheduleDefinition]:
    weekly = dg.ScheduleDefinition(
        name="weekly_retrain_schedule",
        job=weekly_retrain_job(),
        cron_schedule="0 3 * * 1",
        execution_timezone="UTC",
        description="Mondays 03:00 UTC: retrain both models on the latest features.",
    )
    return [daily_refresh_schedule, weekly]
