"""Assertions on the built-aside publication; any problem fails the asset and the live publication stays."""

from __future__ import annotations

import re

import duckdb

from orchestration.publish.reference_data import Parameters

IDENTIFIER_COLUMN = re.compile(
    r"^(person_id|patient\w*|member_id|beneficiary\w*|subscriber\w*|\w*birth\w*|dob|ssn|mbi|case_id|claim_id|claim_key"
    r"|first_name|last_name)$",
    re.IGNORECASE,
)
MANIFEST = "_manifest"
# Integer columns that are labels, not counts; every other integer column must pass the small-cell rule.
INTEGER_LABELS = {"year", "quarter", "performance_year", "percentile", "benchmark_year", "decile"}
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and table_name <> ? order by 1",
        [catalog, MANIFEST],
    ).fetchall()
    return [r[0] for r in rows]


def validate_publication(con: duckdb.DuckDBPyConnection, catalog: str, params: Parameters) -> list[str]:
    problems: list[str] = []
    for table in published_tables(con, catalog):
        described = con.execute(f"describe {catalog}.{table}").fetchall()
        columns = [r[0] for r in described]
        counts_columns = [r[0] for r in described if r[1] in INTEGER_TYPES and r[0] not in INTEGER_LABELS]
        problems += [f"{table}.{c}: looks like a person identifier" for c in columns if IDENTIFIER_COLUMN.search(c)]
        checks = [
            (f"{c} between {params.suppression_min_count} and {params.suppression_max_count}",
             f"{table}.{c}: unsuppressed count from {params.suppression_min_count} to {params.suppression_max_count}")
            for c in counts_columns
        ]
        checks += [
            (f"{c} not between 0 and 100", f"{table}.{c}: percentage outside 0-100") for c in columns if c.endswith("_pct")
        ]
        if not checks:
            continue
        counts = con.execute(
            f"select {', '.join(f'count_if({cond})' for cond, _ in checks)} from {catalog}.{table}"
        ).fetchone()
        problems += [f"{message} ({n} rows)" for (_, message), n in zip(checks, counts) if n]
    return problems
