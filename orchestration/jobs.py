"""Jobs: ingest one delivery (what the landing sensor launches), refresh everything downstream of raw, and
refit the open risk model.

Refitting is deliberate: the daily refresh applies the current coefficients version and never refits, so
measure-220 residuals do not move because a new day's data shifted the fit. `refit_job` fits a new version
(the previous ones stay in risk_model.coefficients) and rebuilds everything downstream; the headless run uses
it only when no version exists yet.
"""

import dagster as dg

from orchestration.checks.required_data import CHECK_KEYS as REQUIRED_DATA_CHECKS
from orchestration.partitions import delivery_partitions

RAW_GROUP = "raw"
RISK_MODEL_GROUP = "risk_model"

ingest_job = dg.define_asset_job(
    "ingest_job",
    # Required data is judged once every delivery is in: by the refresh and refit jobs, before building anything.
    selection=dg.AssetSelection.groups(RAW_GROUP) - dg.AssetSelection.checks(*REQUIRED_DATA_CHECKS),
    partitions_def=delivery_partitions,
    description="Load one delivery (partition) of every raw table into the warehouse.",
)

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP, RISK_MODEL_GROUP)
    | dg.AssetSelection.checks(*REQUIRED_DATA_CHECKS),
    description="dbt models (with the current risk-model version), data-quality checks and the published tables.",
)

refit_job = dg.define_asset_job(
    "refit_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP)
    | dg.AssetSelection.checks(*REQUIRED_DATA_CHECKS),
    description="Fit a new open risk-model version, then rebuild everything downstream of the raw layer.",
)

JOBS = [ingest_job, refresh_job, refit_job]
