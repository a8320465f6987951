"""Benchmark of the publication site's rendering on an existing publication (a DATA_DIR a run has published into).

Reads the current version's published.duckdb beside the warehouse (both read-only), renders the site into a
scratch folder --repeat times and prints seconds per part: loading the tables, the code pages, the measure
pages, the index, the CSV downloads (charts are drawn inside the pages). The dbt docs are left out (generated
once per project and schema, then cached: see docs/publication_site.md). Figures, not assertions.

    .venv/bin/python benchmarks/site_benchmark.py DATA_DIR [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from orchestration.publish.site import (  # noqa: E402
    Meta,
    SiteData,
    render_code_page,
    render_index,
    render_measure_page,
    write_downloads,
)


def render_once(con: duckdb.DuckDBPyConnection, version: str, out: Path) -> dict[str, float]:
    laps, last = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        laps[name] = now - last
        last = now

    data = SiteData.load(con, "pub", Meta(version, None))
    lap("load tables")
    codes = data.page_codes()
    for code in codes:
        render_code_page(data, code, out)
    lap(f"{len(codes)} code pages")
    for measure_id in data.measure_ids():
        render_measure_page(data, measure_id, out)
    lap(f"{len(data.measure_ids())} measure pages")
    render_index(data, out)
    lap("index")
    write_downloads(con, "pub", [name for name, _ in data.tables], out / "downloads")
    lap(f"{len(data.tables)} CSV downloads")
    return laps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(os.path.realpath(args.data_dir / "current"))
    con = duckdb.connect(str(args.data_dir / "warehouse.duckdb"), read_only=True)
    con.execute(f"attach '{root / 'published.duckdb'}' as pub (read_only)")
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            laps = render_once(con, root.name, Path(scratch))
            laps["total"] = time.perf_counter() - started
            runs.append(laps)
    print(f"site rendering, {args.repeat} runs on {root.name} (median s, min-max):")
    for part in runs[0]:
        values = [run[part] for run in runs]
        print(f"  {part:<24} {statistics.median(values):7.2f}  ({min(values):.2f}-{max(values):.2f})")


if __name__ == "__main__":
    main()
