"""The follow-up worklist export for the clinics: `spine-pipeline worklist OUT.csv [--tin T] [--due-within DAYS]`
and the optional weekly export to WORKLIST_EXPORT_DIR (orchestration/schedules.py). Rules: docs/worklist.md.

The file holds patient identifiers: it is written only where the operator says, never under the published
outputs, readable by its owner only, and replaced atomically (a reader never sees half a file).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.exports import (EXIT_BAD_ARGUMENT, ExportError, busy_or_missing, check_destination, private_csv,
                                   spark_extract)
from orchestration.settings import Settings, parse_tin

WORKLIST = "marts.follow_up_worklist"
COUNTS = "marts.follow_up_counts"
PARAMETERS = "reference.follow_up_worklist_parameters"
HOLDS = "the worklist holds patient identifiers"
COLUMNS = (
    "measure_id", "stratum", "tin", "rendering_npi", "person_id", "index_date", "instrument", "missing", "status",
    "window_opens", "target_date", "window_closes", "days_left", "case_status", "performance_year", "case_id",
    "as_of_date",
)


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    as_of_date: str | None


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    if settings.is_spark:
        return spark_extract(settings, [WORKLIST, PARAMETERS], busy_or_missing)
    if not settings.warehouse_path.exists():
        raise busy_or_missing(f"no warehouse at {settings.warehouse_path}: run the pipeline first (spine-pipeline run)")
    try:
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.IOException as exc:
        raise busy_or_missing(f"the warehouse is busy (a pipeline run is writing it); try again when it ends: {exc}") from exc
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'follow_up_worklist'"
    ).fetchall()[0][0]
    if not found:
        con.close()
        raise busy_or_missing("the warehouse has no marts.follow_up_worklist yet: run the pipeline (spine-pipeline run)")
    return con


def _selection(tin: str | None, due_within: int | None) -> tuple[str, list]:
    """The worklist rows to export, most urgent first. --due-within keeps the cases still to act on whose window is
    open or opens within that many days (missed cases left out)."""
    where, params = ["true"], []
    if tin is not None:
        where.append("worklist.tin = ?")
        params.append(tin)
    if due_within is not None:
        where.append("worklist.status <> parameters.status_missed")
        where.append("worklist.window_opens <= worklist.as_of_date + cast(? as integer)")
        params.append(due_within)
    sql = f"""
        select {', '.join(f'worklist.{c}' for c in COLUMNS)}
        from {WORKLIST} as worklist
        cross join {PARAMETERS} as parameters
        where {' and '.join(where)}
        order by worklist.days_left, worklist.tin, worklist.rendering_npi, worklist.measure_id, worklist.person_id,
                 worklist.case_id
    """
    return sql, params


def write_worklist(con: duckdb.DuckDBPyConnection, out: Path, tin: str | None = None,
                   due_within: int | None = None) -> Exported:
    """Write the selected worklist rows to `out` (CSV with a header); `con` reads the warehouse."""
    if due_within is not None and due_within < 0:
        raise ExportError(f"--due-within must be 0 or more days, got {due_within}")
    sql, params = _selection(tin, due_within)
    with private_csv(out) as tmp:
        con.sql(sql, params=params).write_csv(str(tmp), header=True)
        rows = con.sql(f"select count(*) from ({sql})", params=params).fetchall()[0][0]
    as_of = con.execute(f"select max(as_of_date) from {WORKLIST}").fetchall()[0][0]
    return Exported(out, rows, as_of.isoformat() if as_of else None)


def export_to_folder(settings: Settings, folder: Path) -> Exported:
    """The weekly export: the whole worklist as follow_up_worklist_<as-of date>.csv in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with connect(settings) as con:
        as_of = con.execute(f"select max(as_of_date) from {WORKLIST}").fetchall()[0][0] or settings.as_of_date
        name = f"follow_up_worklist_{as_of.isoformat() if as_of else 'empty'}.csv"
        return write_worklist(con, check_destination(folder / name, settings, HOLDS))


def status_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(measure_id, status, cases) of the worklist: counts only, no identifiers."""
    return con.execute(
        f"select measure_id, status, count(*) from {WORKLIST} group by all order by measure_id, status"
    ).fetchall()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tin", help="worklist: only this TIN's cases (9 digits; hyphens ignored)")
    parser.add_argument("--due-within", type=int, metavar="DAYS",
                        help="worklist: only cases to act on whose window is open or opens within DAYS days")


def run(settings: Settings, out: str | None, tin: str | None, due_within: int | None) -> int:
    """`spine-pipeline worklist OUT.csv`: exit 0 written, 2 a bad argument, 1 nothing to export yet or the
    warehouse busy (the reason on stderr, as export-cases)."""
    if not out:
        print("spine-pipeline worklist: give the CSV file to write (spine-pipeline worklist OUT.csv)", file=sys.stderr)
        return EXIT_BAD_ARGUMENT
    try:
        tin = None if tin is None else _tin(tin)
        destination = check_destination(Path(out), settings, HOLDS)
        with connect(settings) as con:
            exported = write_worklist(con, destination, tin, due_within)
            tins = [] if tin is None else [
                r[0] for r in con.execute(f"select distinct tin from {WORKLIST} order by 1").fetchall()]
    except ExportError as exc:
        print(f"spine-pipeline worklist: {exc}", file=sys.stderr)
        return exc.exit_code
    as_of = f" (as of {exported.as_of_date})" if exported.as_of_date else " (the worklist is empty)"
    print(f"Wrote {exported.rows:,} worklist rows{as_of} to {exported.path}. "
          "It holds patient identifiers: share it with the clinic only.")
    if tin is not None and tin not in tins:
        shown = ", ".join(map(str, tins[:20])) + (" ..." if len(tins) > 20 else "")
        print(f"TIN {tin} has no case on the worklist (TINs with cases: {shown or 'none'}).")
    return 0


def _tin(text: str) -> str:
    """--tin as the warehouse holds TINs: 9 digits, hyphens and blanks left out (as in MEASURE_220_TINS)."""
    try:
        return parse_tin(text)
    except ValueError:
        raise ExportError(f"--tin {text!r} is not a TIN (9 digits; hyphens and blanks are ignored)") from None
