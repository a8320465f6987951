"""Build a whole publication aside, validate it, then swap it in; on any failure the live publication stays.

Layout under DATA_DIR:
  published.duckdb                 the tables (replaced atomically)
  published -> published_versions/<version>/   parquet files, pages/, manifest.json (link replaced atomically)
  qpp_submissions -> qpp_submissions_versions/<version>/   QPP JSON (exact counts: submission payloads)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from orchestration.progress import Laps
from orchestration.publish import qpp, swap
from orchestration.publish.pages import render_pages
from orchestration.publish.reference_data import load_parameters, load_reference_tables
from orchestration.publish.suppression import suppress
from orchestration.publish.tables import SPECS, build_benchmark_position, build_benchmarks, build_exact_tables
from orchestration.publish.validate import MANIFEST, published_tables, validate_publication
from orchestration.quality.published import validate_published

WORK = "publish_work"
PUB = "publish_build"


class PublicationInvalid(Exception):
    """The built-aside publication failed validation; nothing was swapped in."""


@dataclass(frozen=True)
class PublishResult:
    version: str
    db_path: Path
    dir_path: Path
    qpp_dir: Path
    row_counts: dict[str, int]
    qpp_files: int
    pages: int
    cases_without_tin: int
    qpp_report: qpp.SubmissionReport


def _suppress_all(con: duckdb.DuckDBPyConnection, params) -> None:
    for name, spec in SPECS.items():
        if name in ("measure_benchmarks", "measure_benchmark_position"):
            continue
        suppress(con, f"{WORK}.{name}", f"{PUB}.{name}", spec, params.suppression_min_count,
                 params.suppression_max_count)
    # Benchmarks must know which entity rates the performance table hides.
    build_benchmarks(con, WORK, f"{PUB}.measure_performance", params)
    suppress(con, f"{WORK}.measure_benchmarks", f"{PUB}.measure_benchmarks", SPECS["measure_benchmarks"],
             params.suppression_min_count, params.suppression_max_count)
    build_benchmark_position(con, WORK, f"{PUB}.measure_performance", f"{PUB}.measure_benchmark_position", params)


def _export(con: duckdb.DuckDBPyConnection, version: str, version_dir: Path) -> dict[str, int]:
    counts = {
        t: con.execute(f"select count(*) from {PUB}.{t}").fetchone()[0] for t in published_tables(con, PUB)
    }
    con.execute(f"create table {PUB}.{MANIFEST} (table_name varchar, row_count bigint, version varchar)")
    con.executemany(f"insert into {PUB}.{MANIFEST} values (?, ?, ?)", [[t, n, version] for t, n in counts.items()])
    version_dir.mkdir(parents=True, exist_ok=True)
    for table in counts:
        con.execute(f"copy {PUB}.{table} to '{version_dir / (table + '.parquet')}' (format parquet)")
    (version_dir / "manifest.json").write_text(json.dumps({"version": version, "tables": counts}, indent=2) + "\n")
    return counts


def publish(con: duckdb.DuckDBPyConnection, data_dir: Path, cpt_descriptors: Path | None = None,
            progress: Callable[[str], None] = lambda line: None) -> PublishResult:
    """`con` is a (read-only) connection to the warehouse; nothing outside DATA_DIR is written. `progress` gets
    one line per build step, with its seconds."""
    lap = Laps(progress)
    version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
    live_db = data_dir / "published.duckdb"
    live_dir = data_dir / "published"
    live_qpp = data_dir / "qpp_submissions"
    version_dir = data_dir / "published_versions" / version
    qpp_dir = data_dir / "qpp_submissions_versions" / version
    build_db = data_dir / f".published-{version}.duckdb"
    data_dir.mkdir(parents=True, exist_ok=True)
    attached: list[str] = []
    try:
        # The exact counts live only in an in-memory scratch catalog, never in a file of their own nor in
        # published.duckdb (DuckDB may spill it to its temp directory under memory pressure). In memory is also
        # several times faster than a scratch file for these aggregations.
        con.execute(f"attach ':memory:' as {WORK} (read_only false)")
        attached.append(WORK)
        con.execute(f"attach '{build_db}' as {PUB} (read_only false)")
        attached.append(PUB)
        load_reference_tables(con, WORK)
        params = load_parameters(con, WORK)
        build_exact_tables(con, WORK, params, cpt_descriptors)
        lap("exact code and measure tables built")
        _suppress_all(con, params)
        lap("small cells suppressed")
        problems = validate_publication(con, PUB, params)
        frames = {t: con.execute(f"select * from {PUB}.{t}").df() for t in published_tables(con, PUB)}
        suite = validate_published(frames)
        problems += [f"data-quality suite rule {e.rule} failed at {suite.locations.get(e.rule)}"
                     for e in suite.failed("error")]
        if problems:
            raise PublicationInvalid("published tables failed validation: " + "; ".join(problems))
        lap("publication validated")
        row_counts = _export(con, version, version_dir)
        lap(f"{len(row_counts)} tables written as parquet")
        pages = render_pages(con, PUB, WORK, version_dir / "pages")
        lap(f"{len(pages)} code pages rendered")
        qpp_report = qpp.write_submissions(con, qpp_dir, params.qpp_submission_method)
        lap(f"{qpp_report.files} QPP submission files written, {len(qpp_report.skipped)} skipped")
        without_tin = qpp.cases_without_tin(con)
        for catalog in reversed(attached):
            con.execute(f"detach {catalog}")
        attached.clear()
        swap.swap_file(build_db, live_db)
        swap.swap_dir(version_dir, live_dir)
        swap.swap_dir(qpp_dir, live_qpp)
    except BaseException:
        for catalog in reversed(attached):
            con.execute(f"detach {catalog}")
        swap.discard(build_db, version_dir, qpp_dir)
        raise
    swap.prune_versions(version_dir.parent, live_dir)
    swap.prune_versions(qpp_dir.parent, live_qpp)
    return PublishResult(version, live_db, version_dir, qpp_dir, row_counts, qpp_report.files, len(pages), without_tin,
                         qpp_report)
