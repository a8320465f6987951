"""The daily refresh: rebuild everything downstream of the raw layer (dbt, checks, publish); no refit."""

import dagster as dg

from orchestration.jobs import refresh_job

# Early morning UTC: after overnight deliveries are ingested, before the working day.
REFRESH_CRON = "0 6 * * *"

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule=REFRESH_CRON,
    execution_timezone="UTC",
    description="Refresh every model and published table from the raw layer once a day.",
)

SCHEDULES = [daily_refresh_schedule]
