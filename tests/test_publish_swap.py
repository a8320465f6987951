"""One publication, one switch: a reader always sees one whole publication (database, parquet, pages and QPP files
of the same version), whatever happens to the publisher, and clean-up keeps exactly what the pointers name.

The crash tests kill a real publishing process (os._exit, no clean-up code runs) at every step of the switch,
check what a reader then sees, and check that the next publish succeeds and removes the leftovers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import publisher, swap
from orchestration.publish.publisher import PublicationInvalid, publish
from orchestration.publish.swap import current_version
from publish_support import build_warehouse

pytestmark = pytest.mark.slow
TESTS_DIR = Path(__file__).parent


def _publish(warehouse: Path, data_dir: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish(con, data_dir)


def reader_view(data_dir: Path) -> str:
    """Read the live publication as a reader does (resolve `current` once) and check that every part of it is
    the same, complete version; the paths analysts use must lead into it too. Returns its id."""
    current = current_version(data_dir)
    assert current is not None and current.is_complete()
    marker = json.loads(current.marker.read_text())
    assert marker["version"] == current.id
    with duckdb.connect(str(current.database), read_only=True) as con:
        manifest = {t: (n, v) for t, n, v in con.execute("select table_name, row_count, version from _manifest").fetchall()}
        for table, (n, version) in manifest.items():
            assert version == current.id
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == n
    counts = {t: n for t, (n, _) in manifest.items()}
    assert counts == marker["tables"]
    assert json.loads((current.directory / "manifest.json").read_text()) == {"version": current.id, "tables": counts}
    for table, n in counts.items():
        path = current.directory / f"{table}.parquet"
        assert duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0] == n
    site = current.directory / "site"
    assert len(list(site.rglob("*.html"))) - 1 == marker["pages"]  # index, code and measure pages (+ dbt-docs)
    assert (site / "index.html").is_file() and (site / "dbt-docs.html").is_file()
    assert len(list(current.qpp.glob("*.json"))) == marker["qpp_files"] > 0
    for name in ("published.duckdb", "published", "qpp_submissions"):
        assert os.path.realpath(data_dir / name) == os.path.realpath(current.root / name), name
    return current.id


def leftovers(data_dir: Path) -> list[str]:
    """Anything a crash may leave: hidden build files and links, incomplete or unnamed versions."""
    current = current_version(data_dir)
    named = {current.id, current.previous()} - {None}
    stray = [p.name for p in data_dir.iterdir() if p.name.startswith(".") and p.name != ".pipeline.lock"]
    return stray + [p.name for p in (data_dir / "publications").iterdir() if p.name not in named]


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    root = tmp_path_factory.mktemp("warehouses")
    small = build_warehouse(root / "a" / "warehouse.duckdb", n_claims=400, n_cases=80, seed=0)
    large = build_warehouse(root / "b" / "warehouse.duckdb", n_claims=600, n_cases=120, seed=1)
    return small, large


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory, warehouses):
    """A DATA_DIR after two publications (the live one and the one before it), copied by each test."""
    data_dir = tmp_path_factory.mktemp("published") / "data"
    first, second = (_publish(warehouses[0], data_dir).version for _ in range(2))
    return data_dir, first, second


CRASHER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import duckdb
    from orchestration.publish import publisher, swap

    warehouse, data_dir, point = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    real_replace, calls = os.replace, {}

    def die():
        os._exit(137)

    def die_on_call(module, name, nth=1, after=False):
        real = getattr(module, name)
        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            if calls[name] == nth and not after:
                die()
            result = real(*args, **kwargs)
            if calls[name] == nth:
                die()
            return result
        setattr(module, name, wrapper)

    def replace_dying_on(target_name):
        def replace(src, dst, *args, **kwargs):
            if Path(dst).name == target_name:
                die()
            return real_replace(src, dst, *args, **kwargs)
        swap.os.replace = replace

    def remove_half(path):
        files = sorted(p for p in Path(path).rglob("*") if p.is_file())
        for p in files[: max(1, len(files) // 2)]:
            p.unlink()
        die()

    if point == "while_building":
        die_on_call(publisher, "render_site")
    elif point == "before_marker":
        die_on_call(swap, "mark_complete")
    elif point == "inside_marker":
        replace_dying_on(swap.MARKER)
    elif point == "before_switch":
        die_on_call(swap, "switch_current")
    elif point == "inside_switch":
        replace_dying_on(swap.CURRENT)
    elif point == "after_switch":
        die_on_call(swap, "switch_current", after=True)
    elif point == "before_prune":
        die_on_call(swap, "prune", nth=2)
    elif point == "inside_prune":
        swap._remove = remove_half
    with duckdb.connect(warehouse, read_only=True) as con:
        publisher.publish(con, data_dir)
    print("no crash")
    """
)
BEFORE_SWITCH = ("while_building", "before_marker", "inside_marker", "before_switch", "inside_switch")
AFTER_SWITCH = ("after_switch", "before_prune", "inside_prune")


@pytest.mark.parametrize("point", BEFORE_SWITCH + AFTER_SWITCH)
def test_a_crash_at_any_step_leaves_one_whole_version_and_the_next_run_cleans_up(
    tmp_path, warehouses, two_versions, point
):
    template, first, second = two_versions
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir, symlinks=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS_DIR.parent), str(TESTS_DIR)])}
    crash = subprocess.run([sys.executable, "-c", CRASHER, str(warehouses[1]), str(data_dir), point],
                           capture_output=True, text=True, env=env, timeout=300)
    assert crash.returncode == 137, crash.stdout + crash.stderr

    live = reader_view(data_dir)
    if point in BEFORE_SWITCH:
        assert live == second
    else:
        assert live not in (first, second)
        crashed = live
    assert leftovers(data_dir), point  # the crash left something behind to clean

    before_next = current_version(data_dir).id
    result = _publish(warehouses[0], data_dir)
    assert reader_view(data_dir) == result.version
    assert leftovers(data_dir) == []
    # The previous good version survives: the one live before this run, complete and readable.
    kept = sorted(p.name for p in (data_dir / "publications").iterdir())
    assert kept == sorted([before_next, result.version])
    assert current_version(data_dir).previous() == before_next
    assert swap.Version(data_dir / "publications" / before_next).is_complete()
    if point in AFTER_SWITCH:
        assert before_next == crashed


def test_failed_validation_keeps_the_live_publication(tmp_path, warehouses, two_versions, monkeypatch):
    template, _, second = two_versions
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir, symlinks=True)
    before = sorted(p.name for p in (data_dir / "publications").iterdir())
    monkeypatch.setattr(publisher, "validate_publication", lambda *a: ["code_overview.claim_lines: planted"])
    with pytest.raises(PublicationInvalid, match="planted"):
        _publish(warehouses[1], data_dir)
    assert reader_view(data_dir) == second
    assert sorted(p.name for p in (data_dir / "publications").iterdir()) == before
    assert leftovers(data_dir) == []


def test_a_failure_after_the_switch_never_discards_the_live_version(tmp_path, warehouses, two_versions, monkeypatch):
    """Defect: when the second of three swaps raised, the except branch removed the folder already live."""
    template, _, _ = two_versions
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir, symlinks=True)

    def failing(_data_dir):
        raise OSError("disk full")

    monkeypatch.setattr(swap, "ensure_fixed_links", failing)
    with pytest.raises(OSError, match="disk full"):
        _publish(warehouses[1], data_dir)
    monkeypatch.undo()
    live = reader_view(data_dir)
    assert json.loads(current_version(data_dir).marker.read_text())["tables"]["code_overview"] > 0
    assert live == current_version(data_dir).id


def test_pruning_follows_the_pointers_never_the_clock(tmp_path):
    """Defect: clean-up by modification time kept a half-written folder and deleted the last good version."""
    data_dir = tmp_path / "data"
    versions = []
    for _ in range(3):
        version = swap.new_version(data_dir)
        version.directory.mkdir()
        swap.mark_complete(version, versions[-1] if versions else None, {"tables": {}})
        swap.switch_current(data_dir, version)
        versions.append(version)
    swap.ensure_fixed_links(data_dir)
    # A crashed build: newest modification time, and an id that sorts after every real one.
    half = data_dir / "publications" / "99991231T235959999999Z-ffffff"
    (half / "published").mkdir(parents=True)
    (data_dir / ".published-20250101T000000000000Z-abcdef.duckdb").write_bytes(b"x")
    (data_dir / ".published-20250101T000000000000Z-abcdef.duckdb.wal").write_bytes(b"x")
    os.utime(versions[1].root, (1, 1))  # the previous good version looks oldest of all
    future = time.time() + 3600
    os.utime(half, (future, future))

    removed = swap.prune(data_dir)

    assert sorted(p.name for p in (data_dir / "publications").iterdir()) == sorted([versions[1].id, versions[2].id])
    assert set(removed) == {f"publications/{versions[0].id}", f"publications/{half.name}",
                            ".published-20250101T000000000000Z-abcdef.duckdb",
                            ".published-20250101T000000000000Z-abcdef.duckdb.wal"}
    assert current_version(data_dir).id == versions[2].id


def test_the_older_layout_is_adopted_then_cleaned(tmp_path, warehouses, two_versions):
    """A DATA_DIR published by the three-swap layout: its live publication stays readable through the new paths
    until the first new publication replaces it, and the old folders and build leftovers go."""
    template, _, second = two_versions
    data_dir = tmp_path / "data"
    live = swap.Version(template / "publications" / second)
    data_dir.mkdir()
    shutil.copy(live.database, data_dir / "published.duckdb")
    old_version = "20250101T000000000000Z-0a0a0a"
    for root, source in (("published_versions", live.directory), ("qpp_submissions_versions", live.qpp)):
        shutil.copytree(source, data_dir / root / old_version)
        shutil.copytree(source, data_dir / root / "20241201T000000000000Z-0b0b0b")
        os.symlink(f"{root}/{old_version}", data_dir / ("published" if root == "published_versions" else "qpp_submissions"))
    (data_dir / ".published-20250102T000000000000Z-0c0c0c.duckdb").write_bytes(b"half")
    (data_dir / ".published-20250102T000000000000Z-0c0c0c.duckdb.wal").write_bytes(b"half")
    old_bytes = (data_dir / "published.duckdb").read_bytes()

    swap.migrate_legacy_layout(data_dir)
    adopted = current_version(data_dir)
    assert (data_dir / "published.duckdb").is_symlink()
    assert (data_dir / "published.duckdb").read_bytes() == old_bytes
    assert sorted(p.name for p in (data_dir / "qpp_submissions").iterdir()) == sorted(p.name for p in live.qpp.iterdir())
    assert (data_dir / "published" / "manifest.json").read_text() == (live.directory / "manifest.json").read_text()

    result = _publish(warehouses[0], data_dir)
    assert reader_view(data_dir) == result.version
    assert current_version(data_dir).previous() == adopted.id
    names = sorted(p.name for p in data_dir.iterdir() if p.name != ".pipeline.lock")
    assert names == ["current", "publications", "published", "published.duckdb", "qpp_submissions"]


READER = textwrap.dedent(
    """
    import json, os, sys, duckdb
    data_dir, stop = sys.argv[1], sys.argv[2]
    reads, versions, errors = 0, set(), []
    while not os.path.exists(stop) or (reads < 3 and len(errors) < 3):
        try:
            root = os.path.realpath(os.path.join(data_dir, "current"))  # resolved once per read
            version = os.path.basename(root)
            with duckdb.connect(os.path.join(root, "published.duckdb"), read_only=True) as con:
                manifest = con.execute("select table_name, row_count, version from _manifest").fetchall()
                for table, expected, in_db in manifest:
                    if in_db != version:
                        errors.append(f"database of {in_db} under {version}")
                    if con.execute(f"select count(*) from {table}").fetchone()[0] != expected:
                        errors.append(f"db {table}: row count differs from the manifest")
            listed = json.load(open(os.path.join(root, "published", "manifest.json")))
            if listed["version"] != version:
                errors.append(f"parquet of {listed['version']} under {version}")
            for table, expected in listed["tables"].items():
                path = os.path.join(root, "published", table + ".parquet")
                if duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0] != expected:
                    errors.append(f"parquet {table}: row count differs from the manifest")
            if not os.listdir(os.path.join(root, "qpp_submissions")):
                errors.append(f"no QPP files in {version}")
            versions.add(version)
            reads += 1
        except Exception as exc:
            errors.append(repr(exc))
    print(json.dumps({"reads": reads, "versions": sorted(versions), "errors": errors[:5]}))
    sys.exit(1 if errors else 0)
    """
)


def test_reader_in_another_process_always_sees_one_whole_version(tmp_path, warehouses):
    data_dir = tmp_path / "data"
    _publish(warehouses[0], data_dir)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(data_dir), str(stop)], stdout=subprocess.PIPE,
                              text=True)
    try:
        time.sleep(0.5)
        published = {_publish(w, data_dir).version for w in (warehouses[1], warehouses[0])}
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    report = json.loads(out)
    assert reader.returncode == 0, report
    assert report["reads"] >= 3
    assert set(report["versions"]) & published, report
