"""The registry and CMS reference tables (dbt seeds and the models of models/registry) as dbt builds them from the
project's seeds, for stand-in warehouses whose checks and publication read them at run time. Built once per
process."""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb

from conftest import DbtWarehouse, process_scratch


@functools.cache
def registry_database() -> Path:
    warehouse = DbtWarehouse(process_scratch("registry-"))
    warehouse.dbt("seed")
    warehouse.dbt("run", "--select", "models/registry")
    return warehouse.path


def copy_registry(con: duckdb.DuckDBPyConnection) -> None:
    """Write every table of the reference schema (seeds and registry models) into `con`'s reference schema."""
    con.execute(f"attach '{registry_database()}' as registry_source (read_only)")
    con.execute("create schema if not exists reference")
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'registry_source' and schema_name = 'reference'"
    ).fetchall()]
    for table in tables:
        con.execute(f"create or replace table reference.{table} as select * from registry_source.reference.{table}")
    con.execute("detach registry_source")
