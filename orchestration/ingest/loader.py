"""Load one delivery of one raw table: stage every file as text, apply the row rules, then replace the
delivery's rows in raw.<table>, raw.<table>__quarantine and raw.<table>__warnings in one transaction, and write
the ledger.

A re-run of the same delivery therefore yields the same rows; the reconciliation read = loaded + quarantined is
checked per file before commit, and a mismatch fails the load. A delivery whose files (names and sha256) are the
ones its last load read, under the same rules, is not loaded again: its rows are already what a load would give,
and leaving them keeps their load time, which the incremental models downstream go by.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import hashlib

import duckdb

from orchestration.contract import CONTRACTS, TableContract
from orchestration.ingest import ledger
from orchestration.ingest.discovery import file_sha256
from orchestration.ingest.reader import (
    REJECT_QUARANTINE,
    STAGE_TABLE,
    FileContractError,
    create_stage,
    read_csv_header,
    stage_csv,
    stage_parquet,
)
from orchestration.ingest.rules import (
    INSTRUMENTS_SEED,
    MALFORMED_RULES,
    load_instruments,
    q,
    typed_expr,
    violations_query,
)
from orchestration.raw_schema import create_raw_tables, quarantine_table, raw_table, warnings_table
from orchestration.spark_warehouse import dialect

FINDINGS = "_ingest_findings"


class ReconciliationError(Exception):
    """Rows read differ from rows loaded + quarantined: something was dropped silently."""


@dataclass
class FileReport:
    file: str
    file_hash: str
    status: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    warned_by_rule: dict[str, int] = field(default_factory=dict)  # loaded rows with a WARN-level gap, per rule
    extra_columns: list[str] = field(default_factory=list)
    detail: str | None = None


@dataclass
class DeliveryReport:
    table: str
    delivery: str
    files: list[FileReport]
    unchanged_since: object = None  # the load time of the delivery's files when they were not loaded again

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def by_rule(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.by_rule)
        return dict(sorted(total.items()))

    @property
    def warned_by_rule(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.warned_by_rule)
        return dict(sorted(total.items()))

    @property
    def skipped(self) -> list[FileReport]:
        return [f for f in self.files if f.status != ledger.LOADED]


def relative_name(path: Path, landing_dir: Path | None) -> str:
    try:
        return path.resolve().relative_to(Path(landing_dir).resolve()).as_posix() if landing_dir else path.name
    except ValueError:
        return path.name


def _stage_files(con, contract: TableContract, delivery: str, files: dict[Path, tuple[str, str]],
                 ledger_con=None) -> list[FileReport]:
    """`files`: path -> (name relative to the landing folder, sha256). The ledger (which files loaded before) is in
    `ledger_con`, the warehouse (by default `con` itself: on Spark the stage is a DuckDB of its own,
    orchestration/ingest/spark_load.py)."""
    reports: list[FileReport] = []
    seen: dict[str, str] = {}
    for path, (rel, digest) in sorted(files.items()):
        earlier = seen.get(digest) or ledger.loaded_elsewhere(ledger_con or con, contract.name, delivery, digest)
        if path.stat().st_size == 0:
            reports.append(FileReport(rel, digest, ledger.SKIPPED_EMPTY, detail="0-byte file: no header, no rows"))
            continue
        if earlier:
            reports.append(FileReport(rel, digest, ledger.SKIPPED_DUPLICATE,
                                      detail=f"same sha256 as {earlier}, already loaded"))
            continue
        seen[digest] = f"{delivery}: {rel}"
        if path.suffix.lower() == ".parquet":
            shape = stage_parquet(con, contract, path, rel, digest)
        else:
            shape = stage_csv(con, contract, path, rel, digest, read_csv_header(path, contract))
        reports.append(FileReport(rel, digest, ledger.LOADED, extra_columns=shape.extra_columns))
    return reports


def rules_fingerprint(contract: TableContract) -> str:
    """What decides how a row loads: the rules' SQL, the typed columns and the instrument ranges of the seed."""
    digest = hashlib.sha256(violations_query(contract, STAGE_TABLE).encode())
    digest.update(_typed_columns(contract).encode())
    if contract.name == "observation":
        digest.update(INSTRUMENTS_SEED.read_bytes())
    return digest.hexdigest()


def _unchanged_report(con, contract: TableContract, delivery: str, files: dict[Path, tuple[str, str]],
                      rules_hash: str) -> DeliveryReport | None:
    """The report of the delivery's last load, when its files and the rules are the ones that load used."""
    entries = ledger.current_entries(con, contract.name, delivery)
    if not entries or any(e["rules_hash"] != rules_hash for e in entries):
        return None
    if sorted((e["file"], e["hash"]) for e in entries) != sorted(files.values()):
        return None
    rules = con.execute(f"SELECT _source_file, rule, count(*) FROM {quarantine_table(contract.name)} "
                        "WHERE _delivery = ? GROUP BY ALL ORDER BY ALL", [delivery]).fetchall()
    warned = con.execute(f"SELECT _source_file, rule, count(*) FROM {warnings_table(contract.name)} "
                         "WHERE _delivery = ? GROUP BY ALL ORDER BY ALL", [delivery]).fetchall()
    reports = [
        FileReport(e["file"], e["hash"], e["status"], e["read"] or 0, e["loaded"] or 0, e["quarantined"] or 0,
                   by_rule={rule: n for file, rule, n in rules if file == e["file"]},
                   warned_by_rule={rule: n for file, rule, n in warned if file == e["file"]}, detail=e["detail"])
        for e in entries
    ]
    return DeliveryReport(contract.name, delivery, reports, unchanged_since=entries[0]["loaded_at"])


def _count_by_file(con, sql: str, params: list) -> dict[str, int]:
    return dict(con.execute(sql, params).fetchall())


def _fill_counts(con, contract: TableContract, delivery: str, reports: list[FileReport]) -> None:
    read = _count_by_file(con, f"SELECT _source_file, count(*) FROM (SELECT _source_file FROM {STAGE_TABLE} "
                               f"UNION ALL SELECT _source_file FROM {REJECT_QUARANTINE}) GROUP BY 1", [])
    loaded = _count_by_file(con, f"SELECT _source_file, count(*) FROM {raw_table(contract.name)} "
                                 "WHERE _delivery = ? GROUP BY 1", [delivery])
    rules = con.execute(f"SELECT _source_file, rule, count(*) FROM {quarantine_table(contract.name)} "
                        "WHERE _delivery = ? GROUP BY ALL ORDER BY ALL", [delivery]).fetchall()
    warned = con.execute(f"SELECT _source_file, rule, count(*) FROM {warnings_table(contract.name)} "
                         "WHERE _delivery = ? GROUP BY ALL ORDER BY ALL", [delivery]).fetchall()
    for report in reports:
        if report.status != ledger.LOADED:
            continue
        report.read, report.loaded = read.get(report.file, 0), loaded.get(report.file, 0)
        report.by_rule = {rule: n for file, rule, n in rules if file == report.file}
        report.quarantined = sum(report.by_rule.values())
        report.warned_by_rule = {rule: n for file, rule, n in warned if file == report.file}
        if report.read == 0:
            report.detail = "header only: no data rows"
        if report.read != report.loaded + report.quarantined:
            raise ReconciliationError(
                f"{contract.name} delivery {delivery}, {report.file}: read {report.read} rows but loaded "
                f"{report.loaded} + quarantined {report.quarantined}"
            )


def _typed_columns(contract: TableContract) -> str:
    """Typed values; a value a WARN rule found malformed is loaded as NULL (the warning names it)."""
    out = []
    for c in contract.columns:
        typed = typed_expr(c.name, c.type)
        out.append(f"CASE WHEN list_contains(_f._malformed, '{c.name}') THEN NULL ELSE {typed} END"
                   if c.checked else typed)
    return ", ".join(out)


def _replace_delivery(con, contract: TableContract, delivery: str, loaded_at) -> None:
    names = ", ".join(q(n) for n in contract.names)
    params = {"delivery": delivery, "loaded_at": loaded_at}
    for table in (raw_table, quarantine_table, warnings_table):
        con.execute(f"DELETE FROM {table(contract.name)} WHERE _delivery = ?", [delivery])
    con.execute(
        f"""
        INSERT INTO {raw_table(contract.name)} ({names}, _delivery, _source_file, _file_hash, _line_number, _loaded_at)
        SELECT {_typed_columns(contract)}, $delivery, _s._source_file, _s._file_hash, _s._line_number, $loaded_at
        FROM {STAGE_TABLE} AS _s
        LEFT JOIN (
            SELECT _source_file, _line_number, rule,
                   list_transform(list_filter(warnings, lambda w: list_contains({list(MALFORMED_RULES)}, w.rule)),
                                  lambda w: w.column) AS _malformed
            FROM {FINDINGS}
        ) AS _f ON _f._source_file = _s._source_file AND _f._line_number = _s._line_number
        WHERE _f.rule IS NULL
        """,
        params,
    )
    con.execute(
        f"""
        INSERT INTO {quarantine_table(contract.name)}
        SELECT $delivery, _source_file, _file_hash, _line_number, raw_record, rule, reason, $loaded_at
        FROM (SELECT _source_file, _file_hash, _line_number, raw_record, rule, reason FROM {FINDINGS}
              WHERE rule IS NOT NULL
              UNION ALL SELECT * FROM {REJECT_QUARANTINE})
        """,
        params,
    )
    con.execute(
        f"""
        INSERT INTO {warnings_table(contract.name)}
        SELECT $delivery, _source_file, _file_hash, _line_number, w.rule, w.column, w.reason, $loaded_at
        FROM (SELECT _source_file, _file_hash, _line_number, unnest(warnings) AS w FROM {FINDINGS}
              WHERE rule IS NULL)
        """,
        params,
    )


def load_delivery(con: duckdb.DuckDBPyConnection, table: str, delivery: str, files: list[Path],
                  landing_dir: Path | None = None) -> DeliveryReport:
    """Replace `delivery`'s rows of raw.<table> with the content of `files` (quarantining bad rows), unless the
    delivery's last load read these very files under the same rules."""
    if dialect(con) == "spark":
        from orchestration.ingest.spark_load import load_delivery_spark

        return load_delivery_spark(con, table, delivery, files, landing_dir)
    contract = CONTRACTS[table]
    create_raw_tables(con)
    ledger.create_ledger(con)
    named = {path: (relative_name(path, landing_dir), file_sha256(path)) for path in files}
    rules_hash = rules_fingerprint(contract)
    unchanged = _unchanged_report(con, contract, delivery, named, rules_hash)
    if unchanged is not None:
        return unchanged
    load_instruments(con)
    create_stage(con, contract)
    reports = _stage_files(con, contract, delivery, named)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FINDINGS} AS {violations_query(contract, STAGE_TABLE)}")
    loaded_at = ledger.next_load_time(con)
    con.execute("BEGIN TRANSACTION")
    try:
        _replace_delivery(con, contract, delivery, loaded_at)
        _fill_counts(con, contract, delivery, reports)
        ledger.forget_delivery(con, table, delivery)
        ledger.record(con, table, delivery, [
            {"file": r.file, "hash": r.file_hash, "read": r.read, "loaded": r.loaded,
             "quarantined": r.quarantined, "status": r.status, "detail": r.detail} for r in reports
        ], loaded_at, rules_hash)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for temp in (STAGE_TABLE, REJECT_QUARANTINE, FINDINGS):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    return DeliveryReport(table, delivery, reports)


__all__ = ["DeliveryReport", "FileContractError", "FileReport", "ReconciliationError", "load_delivery"]
