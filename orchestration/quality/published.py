"""Validate published tables (or the built-aside copy, before it is swapped in) with the published suite.

Each table is turned into cells by DuckDB: one row per count or rate value and one row per column name, so
one suite covers tables of any shape. Which columns are counts or rates is data in the suite's meta.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.quality.suites import load_suite
from orchestration.quality.validate import SuiteOutcome, run_suite

SUITE = "published_tables"
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_NUMERIC_PREFIXES = ("DECIMAL", "DOUBLE", "FLOAT", "REAL")
CELL_COLUMNS = ["table_name", "column_name", "kind", "count_value", "rate_value"]


def _column_roles(rel: duckdb.DuckDBPyRelation, roles: dict) -> tuple[list[str], list[str]]:
    non_count = re.compile(roles["non_count_column_regex"])
    rate = re.compile(roles["rate_column_regex"])
    counts, rates = [], []
    for name, dtype in zip(rel.columns, (str(t) for t in rel.types)):
        if rate.search(name) and (dtype in _INTEGER_TYPES or dtype.startswith(_NUMERIC_PREFIXES)):
            rates.append(name)
        elif dtype in _INTEGER_TYPES and not non_count.search(name):
            counts.append(name)
    return counts, rates


def _unpivot(con, relation: str, table: str, columns: list[str], kind: str) -> pd.DataFrame:
    value = f"{kind}_value"
    casts = ", ".join(f'cast("{c}" as double) as "{c}"' for c in columns)
    on = ", ".join(f'"{c}"' for c in columns)
    df = con.sql(
        f"unpivot (select {casts} from {relation}) on {on} into name column_name value {value}"
    ).df()
    df.insert(0, "table_name", table)
    df["kind"] = kind
    return df


def published_cells(con: duckdb.DuckDBPyConnection, relations: dict[str, str], roles: dict) -> pd.DataFrame:
    """relations: published table name -> relation to read it from on con."""
    frames = []
    for table, relation in relations.items():
        rel = con.sql(f"select * from {relation}")
        frames.append(pd.DataFrame({"table_name": table, "column_name": rel.columns, "kind": "column"}))
        counts, rates = _column_roles(rel, roles)
        if counts:
            frames.append(_unpivot(con, relation, table, counts, "count"))
        if rates:
            frames.append(_unpivot(con, relation, table, rates, "rate"))
    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CELL_COLUMNS)
    return cells.reindex(columns=CELL_COLUMNS).astype({"count_value": "float64", "rate_value": "float64"})


def _locations(cells: pd.DataFrame, outcome: SuiteOutcome) -> dict[str, list[str]]:
    """Name the table.column of each failure (cells carry no row values, so nothing identifying)."""
    found = {}
    for e in outcome.expectations:
        if e.success or not e.columns:
            continue
        column = e.columns[0]
        if column == "count_value":
            bad = cells[cells.count_value.between(1, 10)]
        elif column == "rate_value":
            bad = cells[(cells.rate_value < 0) | (cells.rate_value > 100)]
        else:
            bad = cells[(cells.kind == "column") & cells.column_name.isin({str(x) for x in _flatten(e.examples)})]
        found[e.rule] = sorted(set(bad.table_name + "." + bad.column_name))
    return found


def _flatten(examples: list) -> list:
    return [x["value"] if isinstance(x, dict) else x for x in examples]


def validate_cells(cells: pd.DataFrame, suite: dict) -> SuiteOutcome:
    outcome = run_suite(cells, suite)
    outcome.locations = _locations(cells, outcome)
    return outcome


def validate_published(df_by_table: dict[str, pd.DataFrame], expectations_dir: Path | None = None) -> SuiteOutcome:
    """Validate in-memory tables (e.g. the built-aside publication); `.success` False means do not swap it in.

    `.failed("error")` lists the broken rules and `.locations` the table.column of each failure.
    """
    suite = load_suite(SUITE, expectations_dir)
    with duckdb.connect() as con:
        relations = {}
        for i, (table, df) in enumerate(df_by_table.items()):
            con.register(f"published_{i}", df)
            relations[table] = f"published_{i}"
        cells = published_cells(con, relations, suite["meta"]["column_roles"])
    return validate_cells(cells, suite)


def validate_published_database(path: Path, expectations_dir: Path | None = None) -> SuiteOutcome:
    """Validate every table of a published DuckDB file (opened read-only: readers are never locked out)."""
    suite = load_suite(SUITE, expectations_dir)
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.sql(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
        relations = {
            (t if s == "main" else f"{s}.{t}"): f'"{s}"."{t}"' for s, t in names
        }
        cells = published_cells(con, relations, suite["meta"]["column_roles"])
    return validate_cells(cells, suite)
