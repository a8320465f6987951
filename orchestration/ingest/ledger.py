"""The delivery ledger raw._deliveries: one row per landing file and load, what happened to it and why.

It is also how a file delivered twice (same sha256 under another name or delivery) is recognized and skipped,
and how a delivery whose files are the ones already loaded, under the same rules, is left as it is (the headless
run offers every delivery each time; only new and changed ones are loaded again). `loaded_at` is the load's time,
the same as the `_loaded_at` of its rows, and grows with every load: the incremental claim staging takes the
rows loaded after the latest one it has processed (dbt_project/macros/claim_line_versions.sql).
"""

from __future__ import annotations

import duckdb

from orchestration.raw_schema import RAW_SCHEMA
from orchestration.spark_warehouse import dialect, sql_literal

LEDGER_TABLE = f"{RAW_SCHEMA}._deliveries"
LOADED, SKIPPED_DUPLICATE, SKIPPED_EMPTY = "loaded", "skipped_duplicate_file", "skipped_empty_file"
SPARK_COLUMNS = ("source_file STRING, file_hash STRING, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, "
                 "status STRING, detail STRING, loaded_at TIMESTAMP")


def create_ledger(con: duckdb.DuckDBPyConnection) -> None:
    if dialect(con) == "spark":
        # partitioned like the raw tables: a delivery's entries are replaced with its partitions
        con.execute(f"CREATE DATABASE IF NOT EXISTS {RAW_SCHEMA}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} ({SPARK_COLUMNS}, table_name STRING, delivery STRING) "
                    "USING parquet PARTITIONED BY (table_name, delivery)")
        return
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
            table_name VARCHAR, delivery VARCHAR, source_file VARCHAR, file_hash VARCHAR,
            rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
            status VARCHAR, detail VARCHAR, loaded_at TIMESTAMP
        )
        """
    )
    # the rules a load applied (orchestration/ingest/loader.py rules_fingerprint); added to older ledgers
    con.execute(f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN IF NOT EXISTS rules_hash VARCHAR")


def next_load_time(con: duckdb.DuckDBPyConnection):
    """Now, or just after the latest load if the clock reads earlier (a clock set back must not hide a load)."""
    return con.execute(
        f"SELECT greatest(current_localtimestamp()::TIMESTAMP, "
        f"coalesce(max(loaded_at) + INTERVAL 1 MICROSECOND, TIMESTAMP '1970-01-01')) FROM {LEDGER_TABLE}"
    ).fetchone()[0]


def current_entries(con: duckdb.DuckDBPyConnection, table: str, delivery: str) -> list[dict]:
    """The ledger rows of the delivery's latest load, one per file."""
    rows = con.execute(
        f"SELECT source_file, file_hash, rows_read, rows_loaded, rows_quarantined, status, detail, loaded_at, "
        f"rules_hash FROM {LEDGER_TABLE} WHERE table_name = ? AND delivery = ? ORDER BY source_file",
        [table, delivery],
    ).fetchall()
    keys = ("file", "hash", "read", "loaded", "quarantined", "status", "detail", "loaded_at", "rules_hash")
    return [dict(zip(keys, row)) for row in rows]


def loaded_elsewhere(con: duckdb.DuckDBPyConnection, table: str, delivery: str, file_hash: str,
                     replaced: list[str] = ()) -> str | None:
    """'<delivery>: <file>' that already loaded this content for this table, outside this delivery and the
    `replaced` ones (being loaded again)."""
    others = "".join(" AND delivery <> ?" for _ in replaced)
    row = con.execute(
        f"SELECT delivery || ': ' || source_file FROM {LEDGER_TABLE} "
        f"WHERE table_name = ? AND file_hash = ? AND status = ? AND delivery <> ?{others} ORDER BY loaded_at LIMIT 1",
        [table, file_hash, LOADED, delivery, *replaced],
    ).fetchone()
    return row[0] if row else None


def forget_delivery(con: duckdb.DuckDBPyConnection, table: str, delivery: str) -> None:
    con.execute(f"DELETE FROM {LEDGER_TABLE} WHERE table_name = ? AND delivery = ?", [table, delivery])


def record(con: duckdb.DuckDBPyConnection, table: str, delivery: str, entries: list[dict], loaded_at,
           rules_hash: str) -> None:
    for e in entries:
        con.execute(
            f"INSERT INTO {LEDGER_TABLE} (table_name, delivery, source_file, file_hash, rows_read, rows_loaded, "
            "rows_quarantined, status, detail, loaded_at, rules_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [table, delivery, e["file"], e["hash"], e["read"], e["loaded"], e["quarantined"], e["status"],
             e.get("detail"), loaded_at, rules_hash],
        )


def replace_delivery(con, table: str, delivery: str, entries: list[dict], loaded_at) -> None:
    """Spark: the delivery's ledger entries replace the ones it had (one partition, written last)."""
    rows = [(e["file"], e["hash"], e["read"], e["loaded"], e["quarantined"], e["status"], e.get("detail"), loaded_at)
            for e in entries]
    con.spark.createDataFrame(rows, schema=SPARK_COLUMNS).createOrReplaceTempView("_ledger_entries")
    con.execute(f"INSERT OVERWRITE TABLE {LEDGER_TABLE} PARTITION (table_name = {sql_literal(table)}, "
                f"delivery = {sql_literal(delivery)}) SELECT * FROM _ledger_entries")
    con.spark.catalog.dropTempView("_ledger_entries")
