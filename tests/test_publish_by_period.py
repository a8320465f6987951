"""Publication by period on hand-made warehouses: a publication after a change suppresses again exactly the units
(a code's year, ...) whose exact rows changed - no other -, takes the rest from the previous publication, and
publishes what a full publication of the same warehouse publishes: the same rows (EXCEPT ALL both ways), the
same QPP files and pages (bytes, the version stamp aside). Unchanged files are hard links to the previous
version's. A new suppression threshold suppresses every unit again."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.publisher import publish
from orchestration.publish.swap import current_version
from orchestration.publish.tables import SPECS
from orchestration.publish.units import RESUPPRESSED, STATE, STATE_FILE
from publish_support import build_reporting, build_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("publish_by_period")]

# Two changes, in two periods: 2023-Q2 lines of 97161 move to another payer (only code_by_payer's 97161-2023 unit
# changes), and a tenth of the 2024 G2137 lines are withdrawn (every table's G2137 rows of 2024, and the catalog).
CHANGE = """
    update staging.stg_medical_claim set payer = 'Aetna'
    where hcpcs_code = '97161' and service_date between date '2023-04-01' and date '2023-06-30' and payer <> 'Aetna';
    delete from staging.stg_medical_claim
    where hcpcs_code = 'G2137' and year(service_date) = 2024 and abs(hash(claim_id)) % 10 = 0;
"""


def _publish(warehouse: Path, data_dir: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish(con, data_dir, as_of_date="2024-12-31")


def _units(state: Path, table: str, only_resuppressed: bool = True) -> set[tuple]:
    with duckdb.connect(str(state), read_only=True) as con:
        where = f"where {RESUPPRESSED}" if only_resuppressed else ""
        return set(con.execute(f"select {', '.join(SPECS[table].unit)} from {table} {where}").fetchall())


def _changed_units(before: Path, after: Path, table: str) -> set[tuple]:
    unit = ", ".join(SPECS[table].unit)
    with duckdb.connect() as con:
        con.execute(f"attach '{before}' as b (read_only)")
        con.execute(f"attach '{after}' as a (read_only)")
        return set(con.execute(f"""
            select distinct {unit} from a.reporting.{table}
            intersect
            select distinct {unit} from (
                (select * from b.reporting.{table} except all select * from a.reporting.{table})
                union all
                (select * from a.reporting.{table} except all select * from b.reporting.{table}))
        """).fetchall())


def _files(root: Path) -> dict[str, bytes]:
    stamp = re.compile(rb'(<code data-meta="version">)[^<]*(</code>)')
    return {p.relative_to(root).as_posix(): stamp.sub(rb"\1\2", p.read_bytes()) for p in root.rglob("*")
            if p.is_file() and (p.suffix == ".html" and "site" in p.parts or "qpp_submissions" in p.parts)}


def _differences(left: Path, right: Path) -> dict[str, tuple[int, int]]:
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'l' and table_name <> '_manifest'").fetchall()]
        assert len(tables) >= len(SPECS)
        found = {}
        for t in tables:
            counts = tuple(con.execute(f"select count(*) from (select * from {a}.{t} except all select * from {b}.{t})")
                           .fetchone()[0] for a, b in (("l", "r"), ("r", "l")))
            if any(counts):
                found[t] = counts
        return found


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("by_period")
    before = build_warehouse(root / "before" / "warehouse.duckdb", n_claims=3000, n_cases=400, seed=3)
    build_reporting(before)
    after = root / "after" / "warehouse.duckdb"
    after.parent.mkdir()
    shutil.copy(before, after)
    with duckdb.connect(str(after)) as con:
        con.execute(CHANGE)
    build_reporting(after, full_refresh=True)
    incremental, full = root / "incremental", root / "full"
    first = _publish(before, incremental)
    second = _publish(after, incremental)
    reference = _publish(after, full)
    return before, after, first, second, reference


def test_exactly_the_changed_units_are_suppressed_again(published):
    before, after, first, second, _ = published
    state = second.db_path.parent / STATE_FILE
    for table in SPECS:
        assert _units(state, table) == _changed_units(before, after, table), table
    # both periods were touched, and most units of both years were kept
    assert _units(state, "code_by_payer") == {("97161", 2023), ("G2137", 2024)}
    assert len(_units(state, "code_by_payer", only_resuppressed=False)) > 10
    assert _units(state, "code_by_place_of_service") == {("G2137", 2024)}
    assert _units(state, "measure_performance") == set()
    # the first publication had nothing to compare with: every unit of it was suppressed
    first_state = first.db_path.parent / STATE_FILE
    assert _units(first_state, "code_by_payer") == _units(first_state, "code_by_payer", only_resuppressed=False)


def test_by_period_publishes_what_a_full_publication_publishes(published):
    _, _, _, second, reference = published
    assert _differences(second.db_path, reference.db_path) == {}
    ours, theirs = _files(second.db_path.parent), _files(reference.db_path.parent)
    assert ours.keys() == theirs.keys() and any(name.endswith(".json") for name in ours)
    assert [name for name in ours if ours[name] != theirs[name]] == []


def test_unchanged_files_are_hard_links_to_the_previous_version(published):
    _, _, first, second, _ = published
    old, new = first.dir_path, second.dir_path
    for name in ("measure_performance.parquet", "site/downloads/measure_performance.csv"):
        assert os.path.samefile(old / name, new / name), name
    for name in ("code_by_payer.parquet", "site/downloads/code_by_payer.csv"):
        assert not os.path.samefile(old / name, new / name), name
    qpp_old, qpp_new = sorted(first.qpp_dir.glob("*.json")), sorted(second.qpp_dir.glob("*.json"))
    assert qpp_new and all(os.path.samefile(a, b) for a, b in zip(qpp_old, qpp_new))


def test_a_new_threshold_suppresses_every_unit_again(published, tmp_path):
    _, after, _, second, _ = published
    data_dir = tmp_path / "data"
    shutil.copytree(second.db_path.parents[2], data_dir, symlinks=True)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(after, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update reference.publication_parameters set value = '11' "
                    "where parameter = 'suppression_max_count'")
    result = _publish(warehouse, data_dir)
    state = current_version(data_dir).root / STATE_FILE
    assert result.version != second.version
    for table in ("code_by_payer", "measure_performance"):
        assert _units(state, table) == _units(state, table, only_resuppressed=False), table


def test_a_table_with_no_rows_counts_zero_units(tmp_path):
    """A real user's data can leave a published table empty (the Tuva sample: no benchmarks for its years); its
    unit count is 0, not NULL (count_if over no rows is NULL in DuckDB, which once failed the publication)."""
    from orchestration.publish.suppression import TableSpec
    from orchestration.publish.units import UnitState

    con = duckdb.connect()
    con.execute("create table empty_exact (code varchar, year integer, claim_lines integer)")
    for unit in (("code", "year"), ()):
        state = UnitState(con, tmp_path / f"state_{len(unit)}.duckdb", "digest", previous_root=None)
        state.split("empty_exact", TableSpec(name="empty_table", counts=("claim_lines",), unit=unit), "main")
        assert state.report.units == {"empty_table": (0, 0) if unit else (1, 1)}
        assert state.report.summary().startswith(f"{0 if unit else 1} of {0 if unit else 1} suppression units")
        con.execute(f"detach {STATE}")
