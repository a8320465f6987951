"""The publish step alone, full against by period, on the warehouse and publications of a `make bench` run.

    python benchmarks/publish_by_period.py .bench/run_<persons>_<seed>_<time>/data [--rounds 2]

The run's DATA_DIR holds the warehouse after the incremental month and two publications: the full run's (of the
warehouse before the month) and the month's. Each round publishes the warehouse twice, in scratch DATA_DIRs:
  full:       nothing published before (every unit suppressed, every file written, every page rendered);
  by period:  the full run's publication as the current one (what the incremental month starts from).
Rounds alternate, so a busy machine weighs on both alike. Prints each build step's seconds (the publisher's own
progress lines) and the total.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestration.publish import swap  # noqa: E402
from orchestration.publish.publisher import publish  # noqa: E402
from orchestration.resources import resolve_as_of_date  # noqa: E402
from orchestration.settings import load_settings  # noqa: E402


def _first_publication(data_dir: Path) -> Path:
    """The oldest complete version: the full run's publication (a version's id starts with its time)."""
    versions = sorted(p for p in (data_dir / swap.PUBLICATIONS).iterdir() if (p / swap.MARKER).is_file())
    if not versions:
        raise SystemExit(f"no complete publication under {data_dir / swap.PUBLICATIONS}")
    return versions[0]


def _data_dir_after(previous: Path, root: Path) -> Path:
    """A DATA_DIR whose current publication is (hard links to) `previous`."""
    data_dir = root / "data"
    shutil.copytree(previous, data_dir / swap.PUBLICATIONS / previous.name, copy_function=os.link)
    os.symlink(f"{swap.PUBLICATIONS}/{previous.name}", data_dir / swap.CURRENT)
    return data_dir


def _timed(label: str, warehouse: Path, data_dir: Path, as_of: str | None) -> float:
    lines: list[str] = []
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        publish(con, data_dir, progress=lines.append, as_of_date=as_of)
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s", flush=True)
    for line in lines:
        print(f"    {line}", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    warehouse = args.data_dir / "warehouse.duckdb"
    previous = _first_publication(args.data_dir)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        as_of = resolve_as_of_date(con, load_settings())
    results: dict[str, list[float]] = {"full": [], "by period": []}
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="publish-full-") as root:
            results["full"].append(_timed(f"[{round_}] full", warehouse, Path(root) / "data", as_of))
        with tempfile.TemporaryDirectory(prefix="publish-by-period-") as root:
            data_dir = _data_dir_after(previous, Path(root))
            results["by period"].append(_timed(f"[{round_}] by period (after {previous.name})", warehouse,
                                               data_dir, as_of))
    for label, seconds in results.items():
        print(f"{label}: " + ", ".join(f"{s:.1f}" for s in seconds) + f" s (min {min(seconds):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
