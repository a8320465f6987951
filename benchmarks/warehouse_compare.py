"""Both warehouses on the same sample: `spine-pipeline run` with WAREHOUSE=duckdb and WAREHOUSE=spark (each in a
fresh DATA_DIR, in a child process), their wall times, and every published table compared row for row (EXCEPT ALL
both ways on published.duckdb, the manifest's version column aside). Exit 1 when a table differs.

    python benchmarks/warehouse_compare.py --persons 1000 [--seed 11] [--work .bench/warehouses]
    python benchmarks/warehouse_compare.py --compare DATA_DIR_A DATA_DIR_B   # two finished runs
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(warehouse: str, landing: Path, data_dir: Path) -> float:
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {**os.environ, "WAREHOUSE": warehouse, "LANDING_DIR": str(landing), "DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    subprocess.run([str(BIN / "spine-pipeline"), "run"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def compare(a: Path, b: Path) -> list[str]:
    """The published tables that differ between two DATA_DIRs (empty: identical)."""
    con = duckdb.connect()
    con.execute(f"attach '{a / 'published.duckdb'}' as a (read_only)")
    con.execute(f"attach '{b / 'published.duckdb'}' as b (read_only)")
    tables = lambda db: {r[0] for r in con.execute(  # noqa: E731
        "select table_name from information_schema.tables where table_catalog = ?", [db]).fetchall()}
    names_a, names_b = tables("a"), tables("b")
    differ = [f"only in {a}: {t}" for t in sorted(names_a - names_b)] + \
             [f"only in {b}: {t}" for t in sorted(names_b - names_a)]
    for table in sorted(names_a & names_b):
        columns = [r[0] for r in con.execute(f"select * from a.{table} limit 0").description if r[0] != "version"]
        cols = ", ".join(f'"{c}"' for c in columns)
        one = con.execute(f"select count(*) from (select {cols} from a.{table} except all "
                          f"select {cols} from b.{table})").fetchone()[0]
        other = con.execute(f"select count(*) from (select {cols} from b.{table} except all "
                            f"select {cols} from a.{table})").fetchone()[0]
        rows = con.execute(f"select count(*) from a.{table}").fetchone()[0]
        print(f"  {table:<40} {rows:>7} rows   only duckdb {one:>4}   only spark {other:>4}")
        if one or other:
            differ.append(table)
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "warehouses")
    parser.add_argument("--compare", nargs=2, type=Path, metavar="DATA_DIR")
    args = parser.parse_args()
    if args.compare:
        differ = compare(*args.compare)
    else:
        landing = args.work / f"sample_{args.persons}_{args.seed}"
        if not landing.exists():
            subprocess.run([str(BIN / "sample-data"), "--persons", str(args.persons), "--seed", str(args.seed),
                            "--out", str(landing)], check=True, stdout=subprocess.DEVNULL)
        seconds = {w: run(w, landing, args.work / w) for w in ("duckdb", "spark")}
        print(f"{args.persons:,} persons: duckdb {seconds['duckdb']:.0f} s, spark {seconds['spark']:.0f} s (wall)")
        differ = compare(args.work / "duckdb", args.work / "spark")
    print("published tables identical" if not differ else f"DIFFER: {', '.join(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
