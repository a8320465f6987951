"""Atomic swap-in: a reader in another process always sees one complete publication, and a failed build
leaves the live publication untouched."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from orchestration.publish import publisher
from orchestration.publish.publisher import PublicationInvalid, publish
from publish_support import build_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("publish_swap")]

READER = textwrap.dedent(
    """
    import json, os, sys, duckdb
    data_dir, stop = sys.argv[1], sys.argv[2]
    db, directory = os.path.join(data_dir, "published.duckdb"), os.path.join(data_dir, "published")
    reads, versions, errors = 0, set(), []
    while not os.path.exists(stop) or (reads < 3 and len(errors) < 3):
        try:
            with duckdb.connect(db, read_only=True) as con:
                manifest = con.execute("select table_name, row_count, version from _manifest").fetchall()
                for table, expected, version in manifest:
                    n = con.execute(f"select count(*) from {table}").fetchone()[0]
                    if n != expected:
                        errors.append(f"db {table}: {n} rows, manifest says {expected}")
                versions.update(v for _, _, v in manifest)
            version_dir = os.path.realpath(directory)
            listed = json.load(open(os.path.join(version_dir, "manifest.json")))
            for table, expected in listed["tables"].items():
                path = os.path.join(version_dir, table + ".parquet")
                n = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
                if n != expected:
                    errors.append(f"parquet {table}: {n} rows, manifest says {expected}")
            reads += 1
        except Exception as exc:
            errors.append(repr(exc))
    print(json.dumps({"reads": reads, "versions": sorted(versions), "errors": errors[:5]}))
    sys.exit(1 if errors else 0)
    """
)


def _publish(warehouse, data_dir):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish(con, data_dir)


def test_reader_in_another_process_always_sees_complete_tables(tmp_path):
    first = build_warehouse(tmp_path / "a" / "warehouse.duckdb", n_claims=1000, n_cases=200, seed=0)
    second = build_warehouse(tmp_path / "b" / "warehouse.duckdb", n_claims=1200, n_cases=240, seed=1)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _publish(first, data_dir)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(data_dir), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        time.sleep(0.5)
        published_versions = {_publish(w, data_dir).version for w in (second, first)}
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    report = __import__("json").loads(out)
    assert reader.returncode == 0, report
    assert report["reads"] >= 3
    assert len(set(report["versions"]) & published_versions) >= 1, report


def test_failed_validation_keeps_the_live_publication(tmp_path, monkeypatch):
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", n_claims=800, n_cases=120)
    live = _publish(warehouse, tmp_path)
    before = (live.db_path.read_bytes(), os.readlink(tmp_path / "published"))
    monkeypatch.setattr(publisher, "validate_publication", lambda *a: ["code_overview.claim_lines: planted"])
    with pytest.raises(PublicationInvalid, match="planted"):
        _publish(warehouse, tmp_path)
    assert (live.db_path.read_bytes(), os.readlink(tmp_path / "published")) == before
    assert not list(tmp_path.glob(".published-*"))
    assert sorted(p.name for p in (tmp_path / "published_versions").iterdir()) == [live.version]
    assert not list((tmp_path / "tmp").glob("publish-*"))
