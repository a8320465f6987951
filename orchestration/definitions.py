"""The Dagster code location: every asset, check, job, sensor and schedule, wired to its resources.

Jobs run in-process: DuckDB allows one writer per file, so steps never write the warehouse concurrently.
"""

import dagster as dg

from orchestration import dagster_sqlite
from orchestration.assets import code_labels, dbt_models, ingest, publish, risk_model
from orchestration.checks import gx_checks, landing_checks, required_data, sql_checks, worklist_checks
from orchestration.jobs import JOBS
from orchestration.resources import build_resources
from orchestration.schedules import SCHEDULES
from orchestration.sensors import SENSORS

# Before any run stores an event: the headless runs and the UI's run workers both load this module.
dagster_sqlite.install()

defs = dg.Definitions(
    assets=[*ingest.ASSETS, *code_labels.ASSETS, *dbt_models.ASSETS, *risk_model.ASSETS, *publish.ASSETS],
    asset_checks=[*gx_checks.CHECKS, *sql_checks.CHECKS, *landing_checks.CHECKS, *required_data.CHECKS,
                  *worklist_checks.CHECKS],
    jobs=JOBS,
    sensors=SENSORS,
    schedules=SCHEDULES,
    resources=build_resources(),
    executor=dg.in_process_executor,
)
