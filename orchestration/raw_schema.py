"""DDL of the raw layer, derived from the contract: typed contract columns plus lineage columns.

Both the ingestion assets and the tests (which build small warehouses by hand) create raw tables here. On Spark
the tables are Parquet, partitioned by delivery (a delivery's load replaces its partition).
"""

from __future__ import annotations

import duckdb

from orchestration.contract import CONTRACTS, TableContract

RAW_SCHEMA = "raw"
LINEAGE_COLUMNS = (
    ("_delivery", "VARCHAR"),      # partition key: the delivery month (undated files: 0000-<name>)
    ("_source_file", "VARCHAR"),   # path relative to LANDING_DIR
    ("_file_hash", "VARCHAR"),     # sha256 of the delivered file
    ("_line_number", "BIGINT"),    # 1-based line in the file, header = line 1
    ("_loaded_at", "TIMESTAMP"),
)
QUARANTINE_COLUMNS = (
    ("_delivery", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_file_hash", "VARCHAR"),
    ("_line_number", "BIGINT"),
    ("raw_record", "VARCHAR"),     # the delivered text of the row (may carry identifiers: stays in the warehouse)
    ("rule", "VARCHAR"),           # machine-readable rule id, e.g. bad_date, score_out_of_range
    ("reason", "VARCHAR"),         # readable reason, naming the column and the value
    ("_loaded_at", "TIMESTAMP"),
)
# One row per loaded row and WARN-level gap (docs/data_contract.md, severity): the row is in raw.<table>.
WARNING_COLUMNS = (
    ("_delivery", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_file_hash", "VARCHAR"),
    ("_line_number", "BIGINT"),
    ("rule", "VARCHAR"),           # e.g. missing_hcpcs_code, unknown_code_format
    ("column_name", "VARCHAR"),    # the contract column with the gap
    ("reason", "VARCHAR"),         # readable; names the value when it was malformed (loaded as NULL)
    ("_loaded_at", "TIMESTAMP"),
)


def raw_table(name: str) -> str:
    return f"{RAW_SCHEMA}.{name}"


def quarantine_table(name: str) -> str:
    return f"{RAW_SCHEMA}.{name}__quarantine"


def warnings_table(name: str) -> str:
    return f"{RAW_SCHEMA}.{name}__warnings"


def spark_type(duck_type: str) -> str:
    """The Spark SQL type of a contract / lineage type."""
    return {"VARCHAR": "STRING", "INTEGER": "INT"}.get(duck_type, duck_type)


def raw_columns_ddl(contract: TableContract) -> str:
    cols = [(c.name, c.type) for c in contract.columns] + list(LINEAGE_COLUMNS)
    return ", ".join(f'"{n}" {t}' for n, t in cols)


def _spark_ddl(table: str, columns) -> str:
    cols = ", ".join(f"`{n}` {spark_type(t)}" for n, t in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols}) USING parquet PARTITIONED BY (_delivery)"


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw, quarantine and warnings table if missing (empty tables keep dbt sources resolvable)."""
    if getattr(con, "dialect", "duckdb") == "spark":
        con.execute(f"CREATE DATABASE IF NOT EXISTS {RAW_SCHEMA}")
        for contract in CONTRACTS.values():
            con.execute(_spark_ddl(raw_table(contract.name), [(c.name, c.type) for c in contract.columns]
                                   + list(LINEAGE_COLUMNS)))
            con.execute(_spark_ddl(quarantine_table(contract.name), QUARANTINE_COLUMNS))
            con.execute(_spark_ddl(warnings_table(contract.name), WARNING_COLUMNS))
        return
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    quarantine_ddl = ", ".join(f'"{n}" {t}' for n, t in QUARANTINE_COLUMNS)
    warnings_ddl = ", ".join(f'"{n}" {t}' for n, t in WARNING_COLUMNS)
    for contract in CONTRACTS.values():
        con.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(contract.name)} ({raw_columns_ddl(contract)})")
        con.execute(f"CREATE TABLE IF NOT EXISTS {quarantine_table(contract.name)} ({quarantine_ddl})")
        con.execute(f"CREATE TABLE IF NOT EXISTS {warnings_table(contract.name)} ({warnings_ddl})")
