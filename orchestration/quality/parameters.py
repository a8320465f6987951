"""Run-time inputs of the suites that come from reference data: the measure registry as the warehouse holds it
(dbt seeds measures / measure_strata and the model measure_codes), the place-of-service seed, the ICD-10-CM
code set."""

from __future__ import annotations

import functools

import duckdb
import pandas as pd

from orchestration import icd10_cm
from orchestration.settings import SEEDS_DIR

REGISTRY = "reference"


def place_of_service_codes() -> list[str]:
    with duckdb.connect() as con:
        rows = con.read_csv(str(SEEDS_DIR / "place_of_service.csv"), all_varchar=True).fetchall()
    return [r[0] for r in rows]


@functools.cache
def billable_icd10_cm_codes() -> pd.DataFrame:
    """Billable (leaf) ICD-10-CM codes without the dot, as staging stores them (orchestration/icd10_cm.py)."""
    items = icd10_cm.items()
    billable = items.filter(items["billable"]).select(["diagnosis_code"]).rename_columns(["code"])
    return billable.to_pandas().reset_index(drop=True)


def measure_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The measures of the registry (seed measures)."""
    return [r[0] for r in con.execute(f"select measure_id from {REGISTRY}.measures order by 1").fetchall()]


def allowed_case_outcomes(con: duckdb.DuckDBPyConnection, statuses_without_code: list[str]) -> list[str]:
    """Every measure|stratum|status|code a case may carry: each code of measure_codes under its outcome, and
    each stratum of measure_strata with an empty code under the statuses that carry none."""
    uncoded = ", ".join(f"('{s}')" for s in statuses_without_code)
    rows = con.execute(
        f"""
        select concat_ws('|', measure_id, stratum, outcome, code) from {REGISTRY}.measure_codes
        union
        select concat_ws('|', strata.measure_id, strata.stratum, statuses.status, '')
        from (select distinct measure_id, stratum from {REGISTRY}.measure_strata) as strata
        cross join (values {uncoded}) as statuses(status)
        order by 1
        """
    ).fetchall()
    return [r[0] for r in rows]
