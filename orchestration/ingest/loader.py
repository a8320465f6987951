"""Load one delivery of one raw table: stage every file as text, apply the row rules, then replace the
delivery's rows in raw.<table>, raw.<table>__quarantine and raw.<table>__warnings in one transaction, and write
the ledger.

A re-run of the same delivery therefore yields the same rows; the reconciliation read = loaded + quarantined is
checked per file before commit, and a mismatch fails the load. A delivery whose files (names and sha256) are the
ones its last load read, under the same rules, is not loaded again: its rows are already what a load would give,
and leaving them keeps their load time, which the incremental models downstream go by. Several deliveries of a
table (a run's backfill) are staged together and the rules run once over them (load_deliveries), and their loads
are committed together, each delivery still with its own load time, rows, reconciliation and ledger rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import hashlib

import duckdb

from orchestration.contract import CONTRACTS, TableContract
from orchestration.ingest import ledger
from orchestration.ingest.discovery import file_format, file_sha256
from orchestration.ingest import reader
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
    loaded_expr,
    q,
    violations_query,
)
from orchestration.raw_schema import create_raw_tables, quarantine_table, raw_table, warnings_table
from orchestration.spark_warehouse import dialect

FINDINGS = "_ingest_findings"
FILES = "_ingest_files"  # each staged file's delivery
STAGED = "_ingest_staged"  # the stage with each row's delivery
LOADS = "_ingest_loads"  # each staged delivery's load time
# each loaded file's delivery and load time
_LOADED_FILES = f"SELECT _source_file, _delivery, _loaded_at FROM {FILES} JOIN {LOADS} USING (_delivery)"
# Consecutive deliveries of a table are staged together up to this many bytes of files, and the rules run once over
# them: planning the rules' query costs ~0.1-0.2 s whatever the rows (a month of the 10k-person demo is ~4,000
# claim lines), while a month of a large practice (~190 MB at 1M persons) still stages alone.
BATCH_BYTES = 64 * 1024 * 1024
READER_CODE = Path(reader.__file__)


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
                 ledger_con=None, batch: dict[str, str] | None = None,
                 replaced: list[str] | None = None) -> list[FileReport]:
    """`files`: path -> (name relative to the landing folder, sha256). The ledger (which files loaded before) is in
    `ledger_con`, the warehouse (by default `con` itself: on Spark the stage is a DuckDB of its own,
    orchestration/ingest/spark_load.py). `replaced`: the deliveries staged before this one in the same batch
    (load_deliveries), whose ledger entries their loads will replace; `batch`: sha256 -> "delivery: file" of the
    files they staged, read instead, as the ledger would give them once those loads committed."""
    reports: list[FileReport] = []
    seen: dict[str, str] = {}
    batch = batch or {}
    for path, (rel, digest) in sorted(files.items()):
        earlier = (seen.get(digest)
                   or ledger.loaded_elsewhere(ledger_con or con, contract.name, delivery, digest, replaced or [])
                   or batch.get(digest))
        if path.stat().st_size == 0:
            reports.append(FileReport(rel, digest, ledger.SKIPPED_EMPTY, detail="0-byte file: no header, no rows"))
            continue
        if earlier:
            reports.append(FileReport(rel, digest, ledger.SKIPPED_DUPLICATE,
                                      detail=f"same sha256 as {earlier}, already loaded"))
            continue
        seen[digest] = f"{delivery}: {rel}"
        if file_format(path) == ".parquet":
            shape = stage_parquet(con, contract, path, rel, digest)
        elif not (header := read_csv_header(path, contract)):
            reports.append(FileReport(rel, digest, ledger.SKIPPED_EMPTY,
                                      detail="no header, no rows (empty once decompressed, or blank lines only)"))
            continue
        else:
            shape = stage_csv(con, contract, path, rel, digest, header)
        reports.append(FileReport(rel, digest, ledger.LOADED, extra_columns=shape.extra_columns,
                                  detail="; ".join(shape.notes) or None))
    return reports


def rules_fingerprint(contract: TableContract) -> str:
    """What decides how a row loads: the rules' SQL, the typed columns, the instrument ranges of the seed, and the
    reader's code, which makes each file's values the text the rules judge (its NULL words, Parquet types): a
    delivery read under an older reader is loaded again, not left with the values that reader gave."""
    digest = hashlib.sha256(violations_query(contract, STAGE_TABLE).encode())
    digest.update(_typed_columns(contract).encode())
    digest.update(READER_CODE.read_bytes())
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


def _read_by_file(con) -> dict[str, int]:
    return dict(con.execute(f"SELECT _source_file, count(*) FROM (SELECT _source_file FROM {STAGE_TABLE} "
                            f"UNION ALL SELECT _source_file FROM {REJECT_QUARANTINE}) GROUP BY 1").fetchall())


def _fill_counts(con, contract: TableContract, staged: list[tuple[str, list[FileReport]]],
                 read: dict[str, int]) -> None:
    """Each loaded file's rows loaded, quarantined (by rule) and warned (by rule), reconciled with the rows read."""
    where = f"WHERE _delivery IN (SELECT _delivery FROM {LOADS})"
    loaded = {(d, f): n for d, f, n in con.execute(
        f"SELECT _delivery, _source_file, count(*) FROM {raw_table(contract.name)} {where} GROUP BY ALL").fetchall()}
    rules = con.execute(f"SELECT _delivery, _source_file, rule, count(*) FROM {quarantine_table(contract.name)} "
                        f"{where} GROUP BY ALL ORDER BY ALL").fetchall()
    warned = con.execute(f"SELECT _delivery, _source_file, rule, count(*) FROM {warnings_table(contract.name)} "
                         f"{where} GROUP BY ALL ORDER BY ALL").fetchall()
    for delivery, reports in staged:
        for report in reports:
            if report.status != ledger.LOADED:
                continue
            mine = (delivery, report.file)
            reconcile_file(report, contract.name, delivery, read.get(report.file, 0), loaded.get(mine, 0),
                           {rule: n for *key, rule, n in rules if tuple(key) == mine},
                           {rule: n for *key, rule, n in warned if tuple(key) == mine})


def reconcile_file(report: FileReport, table: str, delivery: str, read: int, loaded: int, by_rule: dict[str, int],
                   warned_by_rule: dict[str, int]) -> None:
    """A loaded file's counts on its report (rows read, loaded, quarantined and warned by rule); read = loaded +
    quarantined, or ReconciliationError (DuckDB's loader and Spark's)."""
    report.read, report.loaded = read, loaded
    report.by_rule, report.quarantined = by_rule, sum(by_rule.values())
    report.warned_by_rule = warned_by_rule
    if report.read == 0:
        report.detail = "; ".join(filter(None, ["header only: no data rows", report.detail]))
    if report.read != report.loaded + report.quarantined:
        raise ReconciliationError(
            f"{table} delivery {delivery}, {report.file}: read {report.read} rows but loaded "
            f"{report.loaded} + quarantined {report.quarantined}"
        )


def _typed_columns(contract: TableContract) -> str:
    """Typed values; a value a WARN rule found malformed is loaded as NULL (the warning names it)."""
    out = []
    for c in contract.columns:
        typed = loaded_expr(c)
        out.append(f"CASE WHEN list_contains(_f._malformed, '{c.name}') THEN NULL ELSE {typed} END"
                   if c.checked else typed)
    return ", ".join(out)


def _replace_deliveries(con, contract: TableContract) -> None:
    """Every staged delivery's rows (LOADS) replace the ones it had, each with its delivery and load time."""
    names = ", ".join(q(n) for n in contract.names)
    for table in (raw_table, quarantine_table, warnings_table):
        con.execute(f"DELETE FROM {table(contract.name)} WHERE _delivery IN (SELECT _delivery FROM {LOADS})")
    con.execute(
        f"""
        INSERT INTO {raw_table(contract.name)} ({names}, _delivery, _source_file, _file_hash, _line_number, _loaded_at)
        SELECT {_typed_columns(contract)}, _d._delivery, _s._source_file, _s._file_hash, _s._line_number, _d._loaded_at
        FROM {STAGE_TABLE} AS _s
        JOIN ({_LOADED_FILES}) AS _d ON _d._source_file = _s._source_file
        LEFT JOIN (
            SELECT _source_file, _line_number, rule,
                   list_transform(list_filter(warnings, lambda w: list_contains({list(MALFORMED_RULES)}, w.rule)),
                                  lambda w: w.column) AS _malformed
            FROM {FINDINGS}
        ) AS _f ON _f._source_file = _s._source_file AND _f._line_number = _s._line_number
        WHERE _f.rule IS NULL
        """
    )
    con.execute(
        f"""
        INSERT INTO {quarantine_table(contract.name)}
        SELECT _d._delivery, _source_file, _file_hash, _line_number, raw_record, rule, reason, _d._loaded_at
        FROM (SELECT _source_file, _file_hash, _line_number, raw_record, rule, reason FROM {FINDINGS}
              WHERE rule IS NOT NULL
              UNION ALL SELECT * FROM {REJECT_QUARANTINE})
        JOIN ({_LOADED_FILES}) AS _d USING (_source_file)
        """
    )
    con.execute(
        f"""
        INSERT INTO {warnings_table(contract.name)}
        SELECT _d._delivery, _source_file, _file_hash, _line_number, w.rule, w.column, w.reason, _d._loaded_at
        FROM (SELECT _source_file, _file_hash, _line_number, unnest(warnings) AS w FROM {FINDINGS} WHERE rule IS NULL)
        JOIN ({_LOADED_FILES}) AS _d USING (_source_file)
        """
    )


def load_delivery(con: duckdb.DuckDBPyConnection, table: str, delivery: str, files: list[Path],
                  landing_dir: Path | None = None) -> DeliveryReport:
    """Replace `delivery`'s rows of raw.<table> with the content of `files` (quarantining bad rows), unless the
    delivery's last load read these very files under the same rules."""
    [report] = load_deliveries(con, table, [(delivery, files)], landing_dir)
    return report


def load_deliveries(con: duckdb.DuckDBPyConnection, table: str, deliveries: list[tuple[str, list[Path]]],
                    landing_dir: Path | None = None) -> Iterator[DeliveryReport]:
    """Load each of `deliveries` (delivery, files), in order, as its own load: its own load time (increasing in
    delivery order), rows, reconciliation and ledger rows, or left as it is when unchanged (load_delivery). Yields
    each report once its load committed. The files of consecutive deliveries are staged together (up to BATCH_BYTES),
    the rules run once over them, each delivery's duplicates and versions judged within it, and their loads are
    committed in one transaction. A file that breaks the contract raises once the deliveries before it are
    committed, as loading them one at a time would."""
    if dialect(con) == "spark":
        from orchestration.ingest.spark_load import load_delivery_spark

        for delivery, files in deliveries:
            yield load_delivery_spark(con, table, delivery, files, landing_dir)
        return
    contract = CONTRACTS[table]
    create_raw_tables(con)
    ledger.create_ledger(con)
    rules_hash = rules_fingerprint(contract)
    queue = [(delivery, {path: (relative_name(path, landing_dir), file_sha256(path)) for path in files})
             for delivery, files in deliveries]
    while queue:
        unchanged = _unchanged_report(con, contract, *queue[0], rules_hash)
        if unchanged is not None:
            queue.pop(0)
            yield unchanged
            continue
        yield from _load_batch(con, contract, queue, rules_hash)


def _load_batch(con, contract: TableContract, queue: list[tuple[str, dict[Path, tuple[str, str]]]],
                rules_hash: str) -> Iterator[DeliveryReport]:
    """Stage the changed deliveries at the head of `queue` (delivery, path -> (name, sha256); taking them off it)
    until BATCH_BYTES or an unchanged delivery, run the rules once, then commit each delivery's load in order."""
    load_instruments(con)
    create_stage(con, contract)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FILES} (_source_file VARCHAR, _delivery VARCHAR)")
    staged: list[tuple[str, list[FileReport]]] = []
    digests: dict[str, str] = {}
    size, failure = 0, None
    try:
        while queue and size < BATCH_BYTES:
            delivery, named = queue[0]
            if staged and _unchanged_report(con, contract, delivery, named, rules_hash) is not None:
                break
            try:
                reports = _stage_files(con, contract, delivery, named, batch=digests,
                                       replaced=[done for done, _ in staged])
            except FileContractError as exc:
                failure = exc
                break
            queue.pop(0)
            loaded = [r for r in reports if r.status == ledger.LOADED]
            if loaded:
                con.executemany(f"INSERT INTO {FILES} VALUES (?, ?)", [(r.file, delivery) for r in loaded])
            for r in loaded:
                digests.setdefault(r.file_hash, f"{delivery}: {r.file}")
            staged.append((delivery, reports))
            size += sum(path.stat().st_size for path in named)
        if staged:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGED} AS SELECT _s.*, _f._delivery "
                        f"FROM {STAGE_TABLE} AS _s JOIN {FILES} AS _f USING (_source_file)")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {FINDINGS} AS "
                        f"{violations_query(contract, STAGED, partition='_delivery')}")
            _commit_loads(con, contract, staged, _read_by_file(con), rules_hash)
            for delivery, reports in staged:
                yield DeliveryReport(contract.name, delivery, reports)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {STAGED}")
        for temp in (STAGE_TABLE, REJECT_QUARANTINE, FINDINGS, FILES, LOADS):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    if failure is not None:
        raise failure


def _commit_loads(con, contract: TableContract, staged: list[tuple[str, list[FileReport]]], read: dict[str, int],
                  rules_hash: str) -> None:
    """Commit the staged deliveries' loads in one transaction (docs/performance.md, "Fixed costs", round 4: one
    transaction and one statement of each kind per batch, not per delivery): each delivery still gets its own load
    time, later than any before and increasing in delivery order, its rows, reconciliation and ledger rows, as when
    each was committed on its own; a failed reconciliation commits none of them."""
    first = ledger.next_load_time(con)
    times = [(delivery, first + timedelta(microseconds=i)) for i, (delivery, _) in enumerate(staged)]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {LOADS} (_delivery VARCHAR, _loaded_at TIMESTAMP)")
    con.executemany(f"INSERT INTO {LOADS} VALUES (?, ?)", times)
    con.execute("BEGIN TRANSACTION")
    try:
        _replace_deliveries(con, contract)
        _fill_counts(con, contract, staged, read)
        for (delivery, reports), (_, loaded_at) in zip(staged, times):
            ledger.forget_delivery(con, contract.name, delivery)
            ledger.record(con, contract.name, delivery, [
                {"file": r.file, "hash": r.file_hash, "read": r.read, "loaded": r.loaded,
                 "quarantined": r.quarantined, "status": r.status, "detail": r.detail} for r in reports
            ], loaded_at, rules_hash)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


__all__ = ["DeliveryReport", "FileContractError", "FileReport", "ReconciliationError", "load_deliveries",
           "load_delivery"]
