"""Build a whole publication in a new version directory, validate it, export it, then switch it in.

Layout (orchestration/publish/swap.py): DATA_DIR/publications/<version>/ holds published.duckdb, published/
(parquet, site/, manifest.json) and qpp_submissions/; the link DATA_DIR/current names the live version, and
DATA_DIR/published.duckdb, published/ and qpp_submissions/ are fixed links through it. On any failure before
the switch the live publication stays as it was; a crash leaves leftovers that the next publish removes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.progress import Laps
from orchestration.publish import qpp, swap
from orchestration.publish.benchmarks import build_benchmarks, hide_suppressed_positions
from orchestration.publish.reference_data import Parameters, load_parameters
from orchestration.publish.site import Meta, render_site
from orchestration.publish.suppression import TableSpec, suppress
from orchestration.publish.reference_data import PARAMETERS_TABLE
from orchestration.publish.tables import BENCHMARK_POSITION, BENCHMARKS, REPORTING_SCHEMA, SPECS
from orchestration.publish.units import (
    PREVIOUS,
    PREVIOUS_STATE,
    STATE,
    STATE_FILE,
    UnitReport,
    UnitState,
    inputs_digest,
)
from orchestration.publish.validate import MANIFEST, published_tables, validate_publication
from orchestration.quality.published import validate_published

WORK = "publish_work"
PUB = "publish_build"


class PublicationInvalid(Exception):
    """The new publication failed validation; it was removed and the live one stays."""


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
    units: UnitReport  # per table: suppression units suppressed again, of all (publication by period)


def _detach(con: duckdb.DuckDBPyConnection) -> None:
    """Detach every catalog the build attached (the caller's connection outlives it)."""
    attached = {r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()}
    for catalog in (PREVIOUS, PREVIOUS_STATE, STATE, PUB, WORK):
        if catalog in attached:
            con.execute(f"detach {catalog}")


def _suppress_by_unit(con: duckdb.DuckDBPyConnection, units: UnitState, source: str, spec: TableSpec,
                      params: Parameters) -> None:
    """PUB.<table>: the units whose exact rows changed suppressed again, the others as the previous publication
    published them (units.py)."""
    exact, kept = units.split(source, spec, WORK)
    limits = (params.suppression_min_count, params.suppression_max_count)
    target = f"{PUB}.{spec.name}"
    if kept is None:
        suppress(con, exact, target, spec, *limits, scratch=WORK)
    else:
        fresh = f"{WORK}.{spec.name}__fresh"
        suppress(con, exact, fresh, spec, *limits, scratch=WORK)
        con.execute(f"create table {target} as select * from {fresh} union all by name select * from {kept}")
        con.execute(f"drop table {fresh}")
    con.execute(f"drop table {exact}")


def _suppress_all(con: duckdb.DuckDBPyConnection, params: Parameters, units: UnitState) -> None:
    for name, spec in SPECS.items():
        _suppress_by_unit(con, units, f"{REPORTING_SCHEMA}.{name}", spec, params)
    # The benchmarks must know which entity rates the performance table hides.
    performance = f"{PUB}.measure_performance"
    build_benchmarks(con, f"{REPORTING_SCHEMA}.measure_performance", performance, f"{WORK}.{BENCHMARKS.name}", params)
    _suppress_by_unit(con, units, f"{WORK}.{BENCHMARKS.name}", BENCHMARKS, params)
    hide_suppressed_positions(con, f"{REPORTING_SCHEMA}.{BENCHMARK_POSITION}", performance,
                              f"{PUB}.{BENCHMARK_POSITION}")


def _unchanged_tables(con: duckdb.DuckDBPyConnection, units: UnitState) -> set[str]:
    """The published tables whose rows equal the previous publication's (their files can be hard-linked)."""
    tables = published_tables(con, PUB)
    units.record_contents(PUB, tables)
    return units.unchanged_tables()


def _link_from(previous: Path | None, target: Path) -> bool:
    """Hard-link `target` from the same path under `previous` (a complete, never changed version): True if done."""
    if previous is None or not previous.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(previous, target)
    return True


def _export(con: duckdb.DuckDBPyConnection, version: str, version_dir: Path, unchanged: set[str],
            previous_dir: Path | None) -> dict[str, int]:
    counts = {
        t: con.execute(f"select count(*) from {PUB}.{t}").fetchone()[0] for t in published_tables(con, PUB)
    }
    con.execute(f"create table {PUB}.{MANIFEST} (table_name varchar, row_count bigint, version varchar)")
    con.executemany(f"insert into {PUB}.{MANIFEST} values (?, ?, ?)", [[t, n, version] for t, n in counts.items()])
    version_dir.mkdir(parents=True, exist_ok=True)
    for table in counts:
        target = version_dir / (table + ".parquet")
        if not (table in unchanged and _link_from(previous_dir and previous_dir / target.name, target)):
            con.execute(f"copy {PUB}.{table} to '{target}' (format parquet)")
    (version_dir / "manifest.json").write_text(json.dumps({"version": version, "tables": counts}, indent=2) + "\n")
    return counts


def publish(con: duckdb.DuckDBPyConnection, data_dir: Path,
            progress: Callable[[str], None] = lambda line: None, as_of_date: str | None = None) -> PublishResult:
    """`con` is a (read-only) connection to the warehouse, whose schema `reporting` holds the exact tables (dbt);
    nothing outside DATA_DIR is written. `progress` gets one line per build step, with its seconds; `as_of_date`
    (the run's) heads every page of the site. The caller holds the DATA_DIR lock, so anything under
    publications/ that no pointer names is a leftover, never a build."""
    lap = Laps(progress)
    data_dir.mkdir(parents=True, exist_ok=True)
    swap.migrate_legacy_layout(data_dir)
    swap.prune(data_dir)
    previous = swap.current_version(data_dir)
    version = swap.new_version(data_dir)
    try:
        # Suppression works on the exact counts in an in-memory scratch catalog, never in published.duckdb
        # (DuckDB may spill it to its temp directory under memory pressure).
        con.execute(f"attach ':memory:' as {WORK} (read_only false)")
        con.execute(f"attach '{version.database}' as {PUB} (read_only false)")
        params = load_parameters(con)
        digest = inputs_digest(con, {n: f"{REPORTING_SCHEMA}.{n}" for n in SPECS}, SPECS, PARAMETERS_TABLE)
        units = UnitState(con, version.root / STATE_FILE, digest, previous.root if previous else None)
        _suppress_all(con, params, units)
        lap(f"small cells suppressed: {units.report.summary()}")
        problems = validate_publication(con, PUB, params)
        frames = {t: con.execute(f"select * from {PUB}.{t}").df() for t in published_tables(con, PUB)}
        suite = validate_published(frames)
        problems += [f"data-quality suite rule {e.rule} failed at {suite.locations.get(e.rule)}"
                     for e in suite.failed("error")]
        if problems:
            raise PublicationInvalid("published tables failed validation: " + "; ".join(problems))
        lap("publication validated")
        unchanged = _unchanged_tables(con, units)
        row_counts = _export(con, version.id, version.directory, unchanged, previous and previous.directory)
        lap(f"{len(row_counts)} tables written as parquet ({len(unchanged)} unchanged: hard-linked)")
        site = render_site(con, PUB, version.directory / "site", Meta(version.id, as_of_date), lap,
                           previous=previous and previous.directory / "site", unchanged_tables=unchanged)
        qpp_report = qpp.write_submissions(con, version.qpp, params.qpp_submission_method,
                                           previous=previous and previous.qpp)
        lap(f"{qpp_report.files} QPP submission files written ({qpp_report.linked} unchanged: hard-linked; "
            f"{qpp_report.checked} checked), {len(qpp_report.skipped)} skipped")
        without_tin = qpp.cases_without_tin(con)
        _detach(con)
        swap.mark_complete(version, previous,
                           {"tables": row_counts, "qpp_files": qpp_report.files, "pages": site.pages})
    except BaseException:
        _detach(con)
        swap.discard(version)
        raise
    # From here on the version is complete: a failure leaves it for the next prune, never half-switched.
    swap.switch_current(data_dir, version)
    swap.ensure_fixed_links(data_dir)
    swap.prune(data_dir)
    return PublishResult(version.id, version.database, version.directory, version.qpp, row_counts, qpp_report.files,
                         site.pages, without_tin, qpp_report, units.report)
