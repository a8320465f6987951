"""The daily refresh, now a fallback: the refresh follows ingestion (orchestration/automation.py), so once a day
this schedule only refreshes when the published tables are older than the latest load of a raw table (an
automation that is off, or a refresh that failed). The weekly follow-up worklist export to WORKLIST_EXPORT_DIR,
off until an operator turns it on (docs/worklist.md)."""

import dagster as dg

from orchestration.assets.publish import SITE
from orchestration.contract import TABLES
from orchestration.jobs import RAW_GROUP, RISK_MODEL_KEY, refresh_job, worklist_export_job
from orchestration.settings import load_settings

# Early morning UTC: after overnight deliveries are ingested, before the working day.
REFRESH_CRON = "0 6 * * *"
# the publication is one multi-asset materialized as a whole (one switch): its site stands for all of it
PUBLISHED = SITE


def _latest_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> float | None:
    event = instance.get_latest_materialization_event(key)
    return event.timestamp if event else None


def refresh_missed(instance: dg.DagsterInstance) -> str | None:
    """Why a refresh is due (a load newer than the publication), or None when the publication is up to date."""
    loads = [t for t in (_latest_materialization(instance, dg.AssetKey([RAW_GROUP, table])) for table in TABLES)
             if t is not None]
    if not loads:
        return None
    published = _latest_materialization(instance, PUBLISHED)
    if published is None:
        return "nothing has been published yet"
    if max(loads) > published:
        return "a raw table was loaded after the latest publication"
    return None


@dg.schedule(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule=REFRESH_CRON,
    execution_timezone="UTC",
    description="Fallback of the refresh that follows ingestion: once a day, refresh when the published tables "
                "are older than the latest load of a raw table.",
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
    reason = refresh_missed(context.instance)
    if reason is None:
        return dg.SkipReason("the published tables are up to date with the raw tables")
    if _latest_materialization(context.instance, RISK_MODEL_KEY) is None:
        # refresh_job applies the latest risk-model version and fails without one
        return dg.SkipReason(f"{reason}, but no risk-model version was fitted yet: launch refit_job once (the "
                             "automation does after the first ingestion when default_automation_condition_sensor "
                             "is on)")
    return dg.RunRequest(tags={"spine/refresh_reason": reason})


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
