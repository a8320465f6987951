"""The daily refresh: rebuild everything downstream of the raw layer (dbt, checks, publish); no refit. The weekly
follow-up worklist export to WORKLIST_EXPORT_DIR, off until an operator turns it on (docs/worklist.md)."""

import dagster as dg

from orchestration.jobs import refresh_job, worklist_export_job
from orchestration.settings import load_settings

# Early morning UTC: after overnight deliveries are ingested, before the working day.
REFRESH_CRON = "0 6 * * *"

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule=REFRESH_CRON,
    execution_timezone="UTC",
    description="Refresh every model and published table from the raw layer once a day.",
)

# Mondays, an hour after the daily refresh, so the clinics start the week with the current list.
WORKLIST_EXPORT_CRON = "0 7 * * 1"


@dg.schedule(
    name="weekly_worklist_export",
    job=worklist_export_job,
    cron_schedule=WORKLIST_EXPORT_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Write the follow-up worklist to WORKLIST_EXPORT_DIR every Monday (off by default).",
)
def weekly_worklist_export(context: dg.ScheduleEvaluationContext):
    if load_settings().worklist_export_dir is None:
        return dg.SkipReason("WORKLIST_EXPORT_DIR is not set: nothing to export")
    return dg.RunRequest()


SCHEDULES = [daily_refresh_schedule, weekly_worklist_export]
