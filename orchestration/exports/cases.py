"""The operator's audit export of the case-level table: `spine-pipeline export-cases OUT.csv [--measure M]` writes
marts.measure_cases (one row per case, every column) from the warehouse the settings name. It holds person
identifiers: it never goes under the published outputs (settings.is_published_path), which stay de-identified.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from orchestration.exports import ExportError, busy_or_missing, check_destination, private_csv, spark_extract
from orchestration.settings import Settings

CASES_TABLE = "marts.measure_cases"
CASES_ORDER = "measure_id, performance_year, person_id, index_date, stratum"


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    if settings.is_spark:
        return spark_extract(settings, [CASES_TABLE], busy_or_missing)
    if not settings.warehouse_path.is_file():
        raise busy_or_missing(f"no warehouse at {settings.warehouse_path}: run the pipeline first (DATA_DIR)")
    try:
        return duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.IOException as exc:
        raise busy_or_missing(f"the warehouse {settings.warehouse_path} is in use by a running pipeline; "
                              f"try again when it finishes ({str(exc).splitlines()[0]})") from None


def export_cases(settings: Settings, out: Path, measure: str | None = None) -> int:
    """Write the case-level table (one measure, or all) to CSV; returns the number of cases written."""
    target = check_destination(out, settings, "the case export holds person identifiers")
    with _connect(settings) as con:
        present = con.execute("select count(*) from information_schema.tables "
                              "where table_schema = 'marts' and table_name = 'measure_cases'").fetchone()[0]
        if not present:
            raise busy_or_missing(f"{CASES_TABLE} is not in {settings.warehouse_path}: run the pipeline first")
        measures = [r[0] for r in con.execute(f"select distinct measure_id from {CASES_TABLE} order by 1").fetchall()]
        if measure is not None and measure not in measures:
            raise ExportError(f"measure {measure!r} has no cases in {settings.warehouse_path} "
                              f"(measures with cases: {', '.join(measures) or 'none'})")
        where = f"where measure_id = '{measure}'" if measure is not None else ""  # a value read from the table
        with private_csv(target) as tmp:
            con.sql(f"select * from {CASES_TABLE} {where} order by {CASES_ORDER}").write_csv(str(tmp), header=True)
        return con.execute(f"select count(*) from {CASES_TABLE} {where}").fetchone()[0]


def add_export_cases_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT.csv", help="the CSV file to write (outside DATA_DIR/published)")
    parser.add_argument("--measure", metavar="M", help="one measure's cases only, e.g. 459 or 220 (default: all)")


def export_cases_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        written = export_cases(settings, args.out, args.measure)
    except ExportError as exc:
        print(f"spine-pipeline export-cases: {exc}", file=sys.stderr)
        return exc.exit_code
    scope = f"measure {args.measure}" if args.measure else "all measures"
    print(f"Wrote {written:,} cases ({scope}) from {CASES_TABLE} to {args.out}.")
    print("It holds person identifiers and unsuppressed values: keep it inside your organization.")
    return 0
