"""The publication's own value sets and thresholds, kept as CSV files (with their source) beside this module,
and the measures' outcome codes, read from the dbt seeds that assign them (one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

PACKAGE_DIR = Path(__file__).resolve().parent
REFERENCE_TABLES = ("parameters", "code_systems", "modifier_rules")

# measure, QPP stratum ('' when the code is not stratum-specific), outcome, code
MEASURE_CODES_SQL = """
    with pairs as (
        select cast(measure_id as varchar) as measure_id, stratum, code_met, code_not_met, code_not_measured,
               code_excluded
        from reference.measure_parameters
    ),
    rehab as (
        select cast(measure_id as varchar) as measure_id, code_met, code_not_met, code_not_measured,
               degenerative_condition_code, unable_to_complete_code
        from reference.measure_220_parameters
    )
    select measure_id, stratum as qpp_stratum, 'met' as outcome, code_met as code from pairs
    union all select measure_id, stratum, 'not_met', code_not_met from pairs
    union all select measure_id, stratum, 'not_measured', code_not_measured from pairs
    union all select distinct measure_id, '', 'excluded', code_excluded from pairs
    union all select measure_id, '', 'met', code_met from rehab
    union all select measure_id, '', 'not_met', code_not_met from rehab
    union all select measure_id, '', 'not_measured', code_not_measured from rehab
    union all select measure_id, '', 'excluded', degenerative_condition_code from rehab
    union all select measure_id, '', 'excluded', unable_to_complete_code from rehab
    order by measure_id, qpp_stratum, outcome, code
"""


@dataclass(frozen=True)
class Parameters:
    suppression_min_count: int
    suppression_max_count: int
    benchmark_min_cases: int
    benchmark_percentiles: tuple[int, ...]
    related_codes_per_code_year: int


def load_reference_tables(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    for name in REFERENCE_TABLES:
        con.execute(
            f"create or replace table {schema}.{name} as "
            "select * from read_csv(?, header = true, all_varchar = true)",
            [str(PACKAGE_DIR / f"{name}.csv")],
        )
    con.execute(f"create or replace table {schema}.measure_codes as {MEASURE_CODES_SQL}")


def load_parameters(con: duckdb.DuckDBPyConnection, schema: str) -> Parameters:
    values = dict(con.execute(f"select parameter, value from {schema}.parameters").fetchall())
    return Parameters(
        suppression_min_count=int(values["suppression_min_count"]),
        suppression_max_count=int(values["suppression_max_count"]),
        benchmark_min_cases=int(values["benchmark_min_cases"]),
        benchmark_percentiles=tuple(int(p) for p in values["benchmark_percentiles"].split(",")),
        related_codes_per_code_year=int(values["related_codes_per_code_year"]),
    )
