"""The Spark warehouse behind the small connection interface the pipeline's Python code uses on DuckDB.

Checks, the ledger, the run summary and the exports run SQL through `execute(sql, params).fetchall()`,
`sql(sql).df()` and `register(name, frame)`. Their SQL sticks to what DuckDB and Spark SQL share (GROUP BY ALL,
QUALIFY, `::` casts, `?` parameters, IS DISTINCT FROM ...); where the engines differ, the caller asks
`dialect(con)`. Results come back as Python rows or (small) pandas frames, never as a table-sized copy.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_NAMED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def sql_literal(text: str) -> str:
    """A Spark SQL string literal (backslash escapes) for the places that take no parameter (partition specs)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dialect(con: Any) -> str:
    """"spark" for a SparkConnection, "duckdb" for a DuckDB connection."""
    return getattr(con, "dialect", "duckdb")


class SparkResult:
    def __init__(self, frame: "DataFrame | None"):
        self._frame = frame
        self._rows: list[tuple] | None = None

    def _all(self) -> list[tuple]:
        if self._rows is None:
            self._rows = [] if self._frame is None else [tuple(r) for r in self._frame.collect()]
        return self._rows

    def fetchall(self) -> list[tuple]:
        return list(self._all())

    def fetchone(self) -> tuple | None:
        rows = self._all()
        return rows[0] if rows else None

    def df(self) -> pd.DataFrame:
        return self.arrow().to_pandas() if self._frame is not None else pd.DataFrame()

    def arrow(self):
        """The result as an Arrow table (pyspark's toArrow: no pandas conversion on the way)."""
        return self._frame.toArrow()

    @property
    def frame(self) -> "DataFrame":
        return self._frame


class SparkConnection:
    """A DB-API-like face of a SparkSession for the pipeline's own queries."""

    dialect = "spark"

    def __init__(self, spark: "SparkSession"):
        self.spark = spark

    def execute(self, sql: str, params: list | tuple | dict | None = None) -> SparkResult:
        if isinstance(params, dict):
            return SparkResult(self.spark.sql(_NAMED.sub(r":\1", sql), args=params))
        if params:
            return SparkResult(self.spark.sql(sql, args=list(params)))
        return SparkResult(self.spark.sql(sql))

    def sql(self, sql: str) -> SparkResult:
        return self.execute(sql)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A pandas (or Arrow) frame as a temporary view, as DuckDB's register does."""
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False) if isinstance(frame, pd.DataFrame) else frame
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def has_table(self, schema: str, name: str) -> bool:
        return self.spark.catalog.tableExists(f"{schema}.{name}")

    def close(self) -> None:
        """The session outlives a connection (one per process)."""


def has_table(con: Any, schema: str, name: str) -> bool:
    """Whether schema.name exists in the warehouse, on either engine."""
    if dialect(con) == "spark":
        return con.has_table(schema, name)
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, name]).fetchone()[0] > 0


def duckdb_extract(con: SparkConnection, tables: list[str]):
    """An in-memory DuckDB holding copies of `tables` (schema.name) read from Spark as Arrow: the small inputs of
    the Python steps that run their DuckDB SQL as they are (the risk-model fit, the publication, the exports)."""
    import duckdb

    local = duckdb.connect()
    for table in tables:
        schema, name = table.split(".")
        local.execute(f"create schema if not exists {schema}")
        local.register("_extract", con.spark.table(table).toArrow())
        local.execute(f"create table {schema}.{name} as select * from _extract")
        local.unregister("_extract")
    return local


def schema_tables(con: SparkConnection, *schemas: str) -> list[str]:
    """Every table and view of `schemas` (schema.name), for an extract."""
    return [f"{schema}.{t.name}" for schema in schemas if con.spark.catalog.databaseExists(schema)
            for t in con.spark.catalog.listTables(schema) if not t.isTemporary]


def insert_arrow(con: SparkConnection, table: str, rows) -> None:
    """Append Arrow rows to a Spark table, matching its columns by name."""
    target = con.spark.table(table)
    con.spark.createDataFrame(rows).select(*target.columns).write.insertInto(table)
