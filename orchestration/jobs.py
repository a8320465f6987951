"""Jobs: ingest one delivery (what the landing sensor launches), refresh everything downstream of raw (after
ingestion: orchestration/automation.py), and refit the open risk model.

Refitting is deliberate: the daily refresh applies the current coefficients version and never refits, so
measure-220 residuals do not move because a new day's data shifted the fit. `refit_job` fits a new version
(the previous ones stay in risk_model.coefficients) and rebuilds everything downstream; the headless run uses
it only when no version exists yet. `worklist_export_job` writes the follow-up worklist for the clinics to
WORKLIST_EXPORT_DIR (the weekly schedule launches it; the file holds identifiers and is never an asset's output).
"""

import dagster as dg

from orchestration.assets import code_labels
from orchestration.automation import first_refit_after_ingestion, refresh_after_ingestion
from orchestration.checks.required_data import CHECK_KEYS as REQUIRED_DATA_CHECKS
from orchestration.contract import TABLES
from orchestration.exports.worklist import export_to_folder
from orchestration.resources import WarehouseResource

RAW_GROUP = "raw"
RISK_MODEL_GROUP = "risk_model"
RISK_MODEL_KEY = dg.AssetKey([RISK_MODEL_GROUP, "coefficients"])
# A run the daemon launches again after its process was killed (run_retries, orchestration/dagster_home.py) runs
# every step again: a step killed half-way left nothing the next step could reuse.
RETRY_TAGS = {"dagster/retry_strategy": "ALL_STEPS"}
RAW_KEYS = [dg.AssetKey([RAW_GROUP, table]) for table in TABLES]
# The code labels are written by the dbt step, not by an asset step of their own, so selecting every asset leaves out
# the checks dbt's tests of them are (its source tests): name them, or dbt runs them unselected.
LABEL_CHECKS = dg.AssetSelection.checks_for_assets(*code_labels.KEYS)

ingest_job = dg.define_asset_job(
    "ingest_job",
    tags=RETRY_TAGS,
    # Required data is judged once every delivery is in: by the refresh and refit jobs, before building anything.
    selection=dg.AssetSelection.groups(RAW_GROUP) - dg.AssetSelection.checks(*REQUIRED_DATA_CHECKS),
    description="Load one delivery (partition) of every raw table into the warehouse.",
)

refresh_job = dg.define_asset_job(
    "refresh_job",
    tags=RETRY_TAGS,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP, RISK_MODEL_GROUP)
    | dg.AssetSelection.checks(*REQUIRED_DATA_CHECKS) | LABEL_CHECKS,
    description="dbt models (with the current risk-model version), data-quality checks and the published tables. "
                "Launched after ingestion (orchestration/automation.py); the daily schedule is the fallback.",
    automation_condition=refresh_after_ingestion(RAW_KEYS, RISK_MODEL_KEY),
)

refit_job = dg.define_asset_job(
    "refit_job",
    tags=RETRY_TAGS,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP)
    | dg.AssetSelection.checks(*REQUIRED_DATA_CHECKS) | LABEL_CHECKS,
    description="Fit a new open risk-model version, then rebuild everything downstream of the raw layer. "
                "Launched after ingestion only while no version was ever fitted (a new deployment).",
    automation_condition=first_refit_after_ingestion(RAW_KEYS, RISK_MODEL_KEY),
)



# a refresh may hold the warehouse when the export starts: DuckDB then refuses the reader, so try again later
@dg.op(retry_policy=dg.RetryPolicy(max_retries=3, delay=600))
def write_worklist_export(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    settings = warehouse.settings
    if settings.worklist_export_dir is None:
        raise dg.Failure("WORKLIST_EXPORT_DIR is not set: no folder to write the worklist export to")
    exported = export_to_folder(settings, settings.worklist_export_dir)
    context.log.info(f"wrote {exported.rows} worklist rows (as of {exported.as_of_date}) to {exported.path}")


@dg.job(description="Write the follow-up worklist (patient identifiers) as CSV to WORKLIST_EXPORT_DIR.")
def worklist_export_job():
    write_worklist_export()


JOBS = [ingest_job, refresh_job, refit_job, worklist_export_job]
