"""The publication's thresholds as the warehouse holds them (dbt seed reference.publication_parameters, each
with its source); the reporting models read the same seed (related codes kept, benchmark case minimum, QPP
submission method)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

PACKAGE_DIR = Path(__file__).resolve().parent
PARAMETERS_TABLE = "reference.publication_parameters"


@dataclass(frozen=True)
class Parameters:
    suppression_min_count: int
    suppression_max_count: int
    benchmark_min_cases: int
    benchmark_percentiles: tuple[int, ...]
    qpp_submission_method: str


def load_parameters(con: duckdb.DuckDBPyConnection, table: str = PARAMETERS_TABLE) -> Parameters:
    values = dict(con.execute(f"select parameter, value from {table}").fetchall())
    return Parameters(
        suppression_min_count=int(values["suppression_min_count"]),
        suppression_max_count=int(values["suppression_max_count"]),
        benchmark_min_cases=int(values["benchmark_min_cases"]),
        benchmark_percentiles=tuple(int(p) for p in values["benchmark_percentiles"].split(",")),
        qpp_submission_method=values["qpp_submission_method"],
    )
