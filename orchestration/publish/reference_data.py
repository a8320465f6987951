"""The publication's own value sets and thresholds, kept as CSV files (with their source) beside this module,
and the measures' outcome codes, read from the warehouse's registry (dbt model reference.measure_codes, built
from the parameter seeds: one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

PACKAGE_DIR = Path(__file__).resolve().parent
REFERENCE_TABLES = ("parameters", "code_systems", "modifier_rules")

# measure, stratum ('' when the code serves several strata of the measure, e.g. an exclusion code), outcome,
# code, and the performance years the registry gives it
MEASURE_CODES_SQL = """
    select distinct measure_id,
           case when count(distinct stratum) over (partition by measure_id, code) > 1 then '' else stratum end
               as stratum,
           outcome, code, performance_year_from, performance_year_to
    from reference.measure_codes
    order by measure_id, stratum, outcome, code, performance_year_from
"""


@dataclass(frozen=True)
class Parameters:
    suppression_min_count: int
    suppression_max_count: int
    benchmark_min_cases: int
    benchmark_percentiles: tuple[int, ...]
    related_codes_per_code_year: int
    qpp_submission_method: str


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
        qpp_submission_method=values["qpp_submission_method"],
    )
