"""Load one delivery of one raw table into the Spark warehouse (WAREHOUSE=spark), by the same rules as on DuckDB.

Each file is read and staged as text by the same readers (orchestration/ingest/reader.py: file checks, CSV rejects
with their line numbers, which Spark's CSV reader does not give) into an in-memory DuckDB; the stage then goes to
Spark as Arrow, where the row rules run as Spark SQL (orchestration/ingest/rules.py, Dialect SPARK) and Spark
writes the delivery's partitions of raw.<table>, raw.<table>__quarantine and raw.<table>__warnings (Parquet,
partitioned by delivery) and the ledger raw._deliveries.

Parquet tables have no transaction across tables: read = loaded + quarantined is checked per file on the
computed rows before anything is written, the three partitions are then replaced (INSERT OVERWRITE of the
delivery's partition), and the ledger entry is written last. A run killed in between leaves a delivery whose
tables disagree with its ledger: the blocking check `ledger_reconciles` stops the publication until the delivery
is loaded again, which replaces the same partitions.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb

from orchestration.contract import CONTRACTS, TableContract
from orchestration.ingest import ledger
from orchestration.ingest.discovery import file_sha256
from orchestration.ingest.loader import (
    FINDINGS,
    DeliveryReport,
    FileReport,
    _stage_files,
    reconcile_file,
    relative_name,
)
from orchestration.ingest.reader import REJECT_QUARANTINE, STAGE_TABLE, create_stage
from orchestration.ingest.rules import (
    INSTRUMENTS_SEED,
    INSTRUMENTS_TABLE,
    MALFORMED_RULES,
    SPARK,
    instruments_sql,
    loaded_expr,
    violations_query,
)
from orchestration.raw_schema import create_raw_tables, quarantine_table, raw_table, warnings_table
from orchestration.spark_warehouse import SparkConnection, sql_literal

MALFORMED = SPARK.array([f"'{r}'" for r in MALFORMED_RULES])


def _typed_columns(contract: TableContract) -> str:
    """Typed values; a value a WARN rule found malformed is loaded as NULL (the warning names it)."""
    out = []
    for c in contract.columns:
        typed = loaded_expr(c, SPARK)
        value = (f"CASE WHEN array_contains(_f._malformed, '{c.name}') THEN NULL ELSE {typed} END"
                 if c.checked else typed)
        out.append(f"CAST({value} AS {SPARK.type(c.type)}) AS {SPARK.q(c.name)}")
    return ", ".join(out)


def _stage_in_duckdb(con: SparkConnection, contract: TableContract, delivery: str, files: list[Path],
                     landing_dir) -> tuple[duckdb.DuckDBPyConnection, list[FileReport]]:
    stage = duckdb.connect()
    create_stage(stage, contract)
    named = {path: (relative_name(path, landing_dir), file_sha256(path)) for path in files}
    return stage, _stage_files(stage, contract, delivery, named, ledger_con=con)


def _to_spark(con: SparkConnection, stage: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]]):
    """A DuckDB temp table as a Spark temporary view (through Arrow; an empty table keeps its schema)."""
    table = stage.sql(f"SELECT * FROM {name}").to_arrow_table()
    schema = ", ".join(f"`{n}` {t}" for n, t in columns)
    frame = con.spark.createDataFrame(table if table.num_rows else [], schema=schema)
    frame.createOrReplaceTempView(name)
    return frame


def _counts(con: SparkConnection, sql: str) -> dict:
    return {tuple(r[:-1]) if len(r) > 2 else r[0]: r[-1] for r in con.execute(sql).fetchall()}


def load_delivery_spark(con: SparkConnection, table: str, delivery: str, files: list[Path],
                        landing_dir: Path | None = None) -> DeliveryReport:
    contract = CONTRACTS[table]
    create_raw_tables(con)
    ledger.create_ledger(con)
    stage, reports = _stage_in_duckdb(con, contract, delivery, files, landing_dir)
    try:
        _to_spark(con, stage, STAGE_TABLE, [(n, "STRING") for n in contract.names]
                  + [("_source_file", "STRING"), ("_file_hash", "STRING"), ("_line_number", "BIGINT")])
        _to_spark(con, stage, REJECT_QUARANTINE, [("_source_file", "STRING"), ("_file_hash", "STRING"),
                                                  ("_line_number", "BIGINT"), ("raw_record", "STRING"),
                                                  ("rule", "STRING"), ("reason", "STRING")])
    finally:
        stage.close()
    con.spark.read.csv(str(INSTRUMENTS_SEED), header=True).createOrReplaceTempView("_ingest_instruments_seed")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {INSTRUMENTS_TABLE} AS {instruments_sql('_ingest_instruments_seed')}")
    findings = con.spark.sql(violations_query(contract, STAGE_TABLE, SPARK)).cache()
    findings.createOrReplaceTempView(FINDINGS)
    try:
        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        loaded = con.spark.sql(f"""
            SELECT {_typed_columns(contract)}, _s._source_file, _s._file_hash, _s._line_number,
                   CAST(:loaded_at AS TIMESTAMP) AS _loaded_at
            FROM {STAGE_TABLE} AS _s
            LEFT JOIN (
                SELECT _source_file, _line_number, rule,
                       transform(filter(warnings, w -> array_contains({MALFORMED}, w.rule)), w -> w.column) AS _malformed
                FROM {FINDINGS}
            ) AS _f ON _f._source_file = _s._source_file AND _f._line_number = _s._line_number
            WHERE _f.rule IS NULL
        """, args={"loaded_at": loaded_at})
        quarantined = con.spark.sql(f"""
            SELECT _source_file, _file_hash, _line_number, raw_record, rule, reason,
                   CAST(:loaded_at AS TIMESTAMP) AS _loaded_at
            FROM (SELECT _source_file, _file_hash, _line_number, raw_record, rule, reason FROM {FINDINGS}
                  WHERE rule IS NOT NULL
                  UNION ALL SELECT * FROM {REJECT_QUARANTINE}) AS _q
        """, args={"loaded_at": loaded_at})
        warned = con.spark.sql(f"""
            SELECT _source_file, _file_hash, _line_number, w.rule, w.column AS column_name, w.reason,
                   CAST(:loaded_at AS TIMESTAMP) AS _loaded_at
            FROM (SELECT _source_file, _file_hash, _line_number, explode(warnings) AS w FROM {FINDINGS}
                  WHERE rule IS NULL) AS _w
        """, args={"loaded_at": loaded_at})
        loaded.createOrReplaceTempView("_ingest_loaded")
        quarantined.createOrReplaceTempView("_ingest_quarantined")
        warned.createOrReplaceTempView("_ingest_warned")
        _reconcile(con, contract, delivery, reports)
        for target, view in ((raw_table, "_ingest_loaded"), (quarantine_table, "_ingest_quarantined"),
                             (warnings_table, "_ingest_warned")):
            con.execute(f"INSERT OVERWRITE TABLE {target(contract.name)} PARTITION (_delivery = "
                        f"{sql_literal(delivery)}) SELECT * FROM {view}")
        ledger.replace_delivery(con, table, delivery, [
            {"file": r.file, "hash": r.file_hash, "read": r.read, "loaded": r.loaded,
             "quarantined": r.quarantined, "status": r.status, "detail": r.detail} for r in reports
        ], loaded_at)
    finally:
        findings.unpersist()
        for view in (STAGE_TABLE, REJECT_QUARANTINE, FINDINGS, "_ingest_loaded", "_ingest_quarantined",
                     "_ingest_warned", "_ingest_instruments_seed", INSTRUMENTS_TABLE):
            con.spark.catalog.dropTempView(view)
    return DeliveryReport(table, delivery, reports)


def _reconcile(con: SparkConnection, contract: TableContract, delivery: str, reports: list[FileReport]) -> None:
    """The counts of the rows about to be written, per file; read = loaded + quarantined or nothing is written."""
    read = _counts(con, f"SELECT _source_file, count(*) FROM (SELECT _source_file FROM {STAGE_TABLE} "
                        f"UNION ALL SELECT _source_file FROM {REJECT_QUARANTINE}) GROUP BY 1")
    loaded = _counts(con, "SELECT _source_file, count(*) FROM _ingest_loaded GROUP BY 1")
    rules = con.execute("SELECT _source_file, rule, count(*) FROM _ingest_quarantined GROUP BY ALL "
                        "ORDER BY 1, 2").fetchall()
    warned = con.execute("SELECT _source_file, rule, count(*) FROM _ingest_warned GROUP BY ALL "
                         "ORDER BY 1, 2").fetchall()
    for report in reports:
        if report.status != ledger.LOADED:
            continue
        reconcile_file(report, contract.name, delivery, read.get(report.file, 0), loaded.get(report.file, 0),
                       {rule: n for file, rule, n in rules if file == report.file},
                       {rule: n for file, rule, n in warned if file == report.file})
