"""Great Expectations suites (expectations/*.json) as Dagster asset checks on the tables they guard.

Correctness checks are blocking: an error-severity failure stops the publication in that run, so the
previous publication stays. Input checks (stg_*) only carry warnings and never block.
"""

import dagster as dg

from orchestration.assets.publish import table_key
from orchestration.publish.tables import PUBLISHED_TABLES
from orchestration.quality.check_result import to_check_result
from orchestration.quality.data_docs import write_data_docs
from orchestration.quality.frames import suite_frame
from orchestration.quality.history import append_history
from orchestration.quality.parameters import allowed_case_outcomes, measure_ids, place_of_service_codes
from orchestration.quality.published import validate_published_database
from orchestration.quality.suites import default_parameters, load_suite
from orchestration.quality.validate import SuiteOutcome, run_suite
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

# suite name (= expectations/<name>.json and the guarded asset's key), blocking
WAREHOUSE_SUITES = {
    "score_pairs": True,
    "measure_cases": True,
    "rehab_episodes": True,
    "stg_medical_claim": False,
    "stg_claim_diagnosis": False,
}


def _parameters(suite: dict, con) -> dict:
    """The suite's defaults, and what comes from reference data at run time (the measure registry in the warehouse)."""
    params = default_parameters(suite)
    if suite["name"] == "measure_cases":
        params["measure_ids"] = measure_ids(con)
        params["allowed_case_outcomes"] = allowed_case_outcomes(con, params["statuses_without_code"])
    if suite["name"] == "stg_medical_claim":
        params["place_of_service_codes"] = place_of_service_codes()
    return params


def _record(context, warehouse: WarehouseResource, check: str, outcome: SuiteOutcome, scope: str):
    settings = warehouse.settings
    docs = write_data_docs(outcome, settings.data_docs_dir, context.run.run_id)
    append_history(settings.data_dir, context.run.run_id, check, outcome.suite, outcome)
    return to_check_result(outcome, scope, docs, settings.data_docs_dir, settings.data_docs_port)


def warehouse_suite_check(name: str, blocking: bool) -> dg.AssetChecksDefinition:
    check = f"gx_{name}"

    @dg.asset_check(
        asset=dg.AssetKey(name),
        name=check,
        blocking=blocking,
        pool=WAREHOUSE_POOL,
        description=f"Great Expectations suite expectations/{name}.json",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        suite = load_suite(name)
        with warehouse.connect(read_only=True) as con:
            frame = suite_frame(con, name)
            params = _parameters(suite, con)
        outcome = run_suite(frame.df, suite, params)
        return _record(context, warehouse, check, outcome, frame.note)

    return _check


PUBLISHED_CHECK = "gx_published_tables"


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(PUBLISHED_CHECK, asset=table_key(name), blocking=True,
                             description="Great Expectations suite expectations/published_tables.json")
           for name in PUBLISHED_TABLES],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def gx_published_tables(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """The suite runs once over every table of the live published.duckdb; each table's result fails when a
    failed rule names one of its columns (a failure that names none fails every table)."""
    path = warehouse.settings.published_db_path
    if not path.exists():
        for name in PUBLISHED_TABLES:
            yield dg.AssetCheckResult(
                asset_key=table_key(name), check_name=PUBLISHED_CHECK, passed=False,
                metadata={"missing": dg.MetadataValue.path(str(path))}, description="published.duckdb does not exist")
        return
    outcome = validate_published_database(path)
    result = _record(context, warehouse, PUBLISHED_CHECK, outcome, f"every table of {path.name}")
    failed = [e for e in outcome.expectations if not e.success]
    for name in PUBLISHED_TABLES:
        mine = [e for e in failed
                if not outcome.locations.get(e.rule)
                or any(where.split(".")[0] == name for where in outcome.locations[e.rule])]
        yield dg.AssetCheckResult(
            asset_key=table_key(name), check_name=PUBLISHED_CHECK, passed=not mine, severity=result.severity,
            metadata=result.metadata, description="; ".join(e.rule for e in mine) or None)


CHECKS = [warehouse_suite_check(name, blocking) for name, blocking in WAREHOUSE_SUITES.items()]
CHECKS.append(gx_published_tables)
