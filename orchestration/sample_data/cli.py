"""sample-data: write a synthetic Tuva-format landing directory (see docs/sample_data.md)."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from orchestration.contract import CONTRACTS
from orchestration.sample_data import render
from orchestration.sample_data.defects import inject
from orchestration.sample_data.generate import generate_chunk
from orchestration.sample_data.providers import build_roster
from orchestration.sample_data.writer import MonthlyWriter, write_providers

CHUNK_PERSONS = 50_000  # fixed: the output depends on it, so it is not a machine-dependent setting
TABLES = ("medical_claim", "eligibility", "observation")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sample-data", description=__doc__)
    p.add_argument("--persons", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--defect-rate", type=float, default=0.0, help="fraction of rows damaged (0 = clean)")
    p.add_argument("--start", default="2023-07-01")
    p.add_argument("--end", default="2025-12-31")
    p.add_argument("--format", choices=("csv", "csv.zst", "parquet"), default="csv",
                   help="csv.zst: zstd-compressed CSV (a tenth of the disk)")
    args = p.parse_args(argv)
    if args.persons < 1 or not 0 <= args.defect_rate < 0.5:
        p.error("--persons must be >= 1 and --defect-rate in [0, 0.5)")
    return args


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(persons: int, seed: int, out: Path, defect_rate: float = 0.0, start: str = "2023-07-01",
             end: str = "2025-12-31", fmt: str = "csv", progress=None) -> dict[str, int]:
    t0 = time.perf_counter()
    start_d, end_d = np.datetime64(start, "D"), np.datetime64(end, "D")
    if end_d - start_d < np.timedelta64(365, "D"):
        raise ValueError("the data window must span at least a year (surgery windows and look-backs)")
    out.mkdir(parents=True, exist_ok=True)
    roster = build_roster(seed, persons)
    write_providers(out, render.providers(roster), fmt)
    writers = {t: None for t in TABLES}
    n_chunks = -(-persons // CHUNK_PERSONS)
    try:
        for chunk in range(n_chunks):
            first = chunk * CHUNK_PERSONS
            tables = generate_chunk(seed, chunk, first, min(CHUNK_PERSONS, persons - first), roster, start_d, end_d)
            rng = np.random.default_rng([seed, 3, chunk])
            for name, (table, months) in tables.items():
                table, months, raw = inject(rng, name, table, months, defect_rate, fmt)
                if writers[name] is None:
                    writers[name] = MonthlyWriter(out, name, fmt, table.schema)
                writers[name].write(table, months)
                for data, month, rows in raw:
                    writers[name].write_raw(data, month, rows)
            if progress:
                progress(f"chunk {chunk + 1}/{n_chunks}: {min(first + CHUNK_PERSONS, persons)} persons, "
                         f"{writers['medical_claim'].rows} claim lines, {time.perf_counter() - t0:.1f} s, "
                         f"peak {_peak_mb():.0f} MB")
    finally:
        for w in writers.values():
            if w is not None:
                w.close()
    counts = {name: w.rows for name, w in writers.items()}
    counts["provider"] = roster.npi.size
    return counts


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    counts = generate(args.persons, args.seed, args.out, args.defect_rate, args.start, args.end, args.format,
                      progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    for name in CONTRACTS:
        print(f"{name}: {counts[name]} rows")
    print(f"seconds: {time.perf_counter() - t0:.1f}")
    print(f"peak memory: {_peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
