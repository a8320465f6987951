"""Compare the publication the current code makes with the one a previous version of the code makes, on the same
warehouse: every published table EXCEPT ALL both ways (rows of one missing from the other), column sets and types.

    python scripts/compare_publications.py DATA_DIR [--base REV] [--keep DIR]

DATA_DIR holds a warehouse built by the current pipeline (`make demo` leaves one under data/). The previous
code (`git archive REV`, default: the last commit before the reporting layer moved to dbt) publishes from that
warehouse read-only into a scratch folder, the current code likewise; then each table present in either is
compared. Exit 0 when every table is equal; 1 otherwise (the differences are printed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
# issue 13's tip: publish/tables.py built the exact tables in Python
DEFAULT_BASE = "61d7560"

PUBLISH = textwrap.dedent(
    """
    import inspect, sys
    from pathlib import Path
    import duckdb
    from orchestration.publish.publisher import publish
    warehouse, out = sys.argv[1], Path(sys.argv[2])
    with duckdb.connect(warehouse, read_only=True) as con:
        # as the Dagster asset's connection (orchestration/resources.py), at the default settings
        con.execute("SET threads = 2")
        con.execute("SET memory_limit = '4GB'")
        con.execute("SET preserve_insertion_order = false")
        # the previous publisher took the CPT file as an argument; the current one reads the labels schema
        extra = {"cpt_descriptors": None} if "cpt_descriptors" in inspect.signature(publish).parameters else {}
        result = publish(con, out, **extra)
    print(result.version, sum(result.row_counts.values()), "rows")
    """
)


def checkout(rev: str, into: Path) -> Path:
    """The code of `rev` (orchestration/ and expectations/) in `into`."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "orchestration", "expectations", "dbt_project"],
                             check=True, capture_output=True).stdout
    archive_path = into / "code.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    archive_path.unlink()
    return into


def publish_with(code_root: Path, warehouse: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-c", PUBLISH, str(warehouse), str(out)], check=True, cwd=code_root,
                   env={"PYTHONPATH": str(code_root), "PATH": "/usr/bin:/bin", "DAGSTER_DISABLE_TELEMETRY": "true"})
    return out / "published.duckdb"


def compare(previous: Path, current: Path) -> list[str]:
    problems = []
    with duckdb.connect() as con:
        con.execute(f"attach '{previous}' as previous (read_only)")
        con.execute(f"attach '{current}' as current (read_only)")

        def tables(catalog: str) -> dict[str, list[tuple[str, str]]]:
            names = [r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = ? and table_name <> '_manifest'",
                [catalog]).fetchall()]
            return {n: [(r[0], r[1]) for r in con.execute(f"describe {catalog}.{n}").fetchall()] for n in names}

        before, after = tables("previous"), tables("current")
        for name in sorted(before.keys() | after.keys()):
            if name not in after or name not in before:
                problems.append(f"{name}: only in the {'previous' if name in before else 'current'} publication")
                continue
            columns = [c for c, _ in before[name]]
            if columns != [c for c, _ in after[name]]:
                problems.append(f"{name}: columns differ: {columns} vs {[c for c, _ in after[name]]}")
            types = [f"{c} {b} -> {a}" for (c, b), (_, a) in zip(before[name], after[name]) if a != b]
            select = ", ".join(f'"{c}"' for c in columns if c in dict(after[name]))
            only_before = con.execute(
                f"select count(*) from (select {select} from previous.{name} except all "
                f"select {select} from current.{name})").fetchone()[0]
            only_after = con.execute(
                f"select count(*) from (select {select} from current.{name} except all "
                f"select {select} from previous.{name})").fetchone()[0]
            rows = con.execute(f"select count(*) from previous.{name}").fetchone()[0]
            verdict = "equal" if only_before == only_after == 0 else "DIFFERENT"
            print(f"{name:30} {rows:8} rows  previous-only {only_before:6}  current-only {only_after:6}  {verdict}"
                  + (f"  (types: {'; '.join(types)})" if types else ""))
            if verdict != "equal":
                problems.append(f"{name}: {only_before} rows only in the previous, {only_after} only in the current")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--base", default=DEFAULT_BASE, help="git revision of the previous code")
    parser.add_argument("--keep", type=Path, help="folder to keep both publications in (default: a temp folder)")
    args = parser.parse_args(argv)
    warehouse = args.data_dir / "warehouse.duckdb"
    root = args.keep or Path(tempfile.mkdtemp(prefix="compare-publications-"))
    previous = publish_with(checkout(args.base, root / "previous_code"), warehouse, root / "previous")
    current = publish_with(REPO, warehouse, root / "current")
    problems = compare(previous, current)
    print("\n".join(["", *problems]) if problems else "\nevery published table is equal (EXCEPT ALL both ways)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
