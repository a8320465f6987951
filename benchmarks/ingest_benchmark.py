"""Ingestion benchmark: load a large medical_claim delivery through the loader; print seconds, rows/s, peak memory.

The landing file is generated with DuckDB (in the contract's columns, with a sprinkle of bad rows so the rules
do real work) unless it already exists. Target: 10M claim lines in under 2 minutes on 2 cores, under 6 GB.

    .venv/bin/python benchmarks/ingest_benchmark.py --rows 10000000 --work /tmp/ingest_bench
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import duckdb
import psutil

from orchestration.contract import MEDICAL_CLAIM
from orchestration.ingest.loader import load_delivery

DELIVERY = "2024-01"


def generate(path: Path, rows: int) -> None:
    """Claims over 2024, five diagnosis codes, one row in 10,000 with a bad claim date (a warning: the line date
    is good) and one duplicated line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "claim_id": "'C' || (i // 3)",
        "claim_line_number": "(i % 3 + 1)",
        "claim_type": "'professional'",
        "person_id": "'P' || (i // 40)",
        "payer": "CASE i % 4 WHEN 0 THEN 'Medicare' WHEN 1 THEN 'Aetna' WHEN 2 THEN 'Medicaid' ELSE 'BCBS' END",
        "plan": "'plan ' || (i % 7)",
        "claim_start_date": "CASE WHEN i % 10000 = 7 THEN '2024-02-30' "
                            "ELSE strftime(DATE '2024-01-01' + CAST(i % 366 AS INTEGER), '%Y-%m-%d') END",
        "claim_end_date": "strftime(DATE '2024-01-01' + CAST(i % 366 AS INTEGER), '%Y-%m-%d')",
        "claim_line_start_date": "strftime(DATE '2024-01-01' + CAST(i % 366 AS INTEGER), '%Y-%m-%d')",
        "place_of_service_code": "'11'",
        "service_unit_quantity": "'1'",
        "hcpcs_code": "CASE i % 5 WHEN 0 THEN '63030' WHEN 1 THEN '97110' WHEN 2 THEN 'G2136' "
                      "WHEN 3 THEN '99213' ELSE '97161' END",
        "hcpcs_modifier_1": "CASE WHEN i % 5 = 1 THEN 'GP' END",
        "rendering_npi": "CAST(1000000000 + i % 5000 AS VARCHAR)",
        "rendering_tin": "CAST(100000000 + i % 300 AS VARCHAR)",
        "billing_npi": "CAST(1000000000 + i % 5000 AS VARCHAR)",
        "billing_tin": "CAST(100000000 + i % 300 AS VARCHAR)",
        "paid_amount": "printf('%.2f', (i % 50000) / 100.0)",
        "allowed_amount": "printf('%.2f', (i % 60000) / 100.0)",
        "charge_amount": "printf('%.2f', (i % 90000) / 100.0)",
        "diagnosis_code_type": "'icd-10-cm'",
        "diagnosis_code_1": "CASE i % 3 WHEN 0 THEN 'M51.16' WHEN 1 THEN 'M5416' ELSE 'M48.062' END",
        "diagnosis_code_2": "'M54.50'",
        "diagnosis_code_3": "CASE WHEN i % 2 = 0 THEN 'E11.9' END",
        "diagnosis_code_4": "CASE WHEN i % 4 = 0 THEN 'I10' END",
        "diagnosis_code_5": "CASE WHEN i % 8 = 0 THEN 'Z79.4' END",
        "data_source": "'bench'",
    }
    select = ", ".join(f"{values.get(c, 'NULL')} AS {c}" for c in MEDICAL_CLAIM.names)
    # i = 1 appears twice: the duplicate_line rule has one real duplicate to find.
    duckdb.execute(
        f"COPY (SELECT {select} FROM (SELECT range AS i FROM range(?) UNION ALL SELECT 1) ORDER BY i) "
        f"TO '{path}' (HEADER, DELIMITER ',')",
        [rows - 1],
    )


class PeakMemory:
    """Samples this process's resident memory every 50 ms (DuckDB allocates outside Python's heap)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ingest_bench"))
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "4GB"))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("DUCKDB_THREADS", "2")))
    args = parser.parse_args()

    landing = args.work / "landing"
    claims = landing / "medical_claim" / f"{DELIVERY}-{args.rows}.csv"
    if not claims.exists():
        started = time.perf_counter()
        generate(claims, args.rows)
        print(f"generated {claims} ({claims.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - started:.1f} s")
    warehouse = args.work / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    (args.work / "tmp").mkdir(parents=True, exist_ok=True)

    with duckdb.connect(str(warehouse)) as con, PeakMemory() as memory:
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
        con.execute(f"SET threads = {args.threads}")
        con.execute(f"SET temp_directory = '{args.work / 'tmp'}'")
        cpu_before, started = sum(psutil.Process().cpu_times()[:2]), time.perf_counter()
        report = load_delivery(con, "medical_claim", DELIVERY, [claims], landing)
        seconds = time.perf_counter() - started
        cpu_seconds = sum(psutil.Process().cpu_times()[:2]) - cpu_before

    print(f"rows read {report.read:,}  loaded {report.loaded:,}  quarantined {report.quarantined:,} {report.by_rule}"
          f"  loaded with warn-level gaps {report.warned_by_rule}")
    print(f"seconds {seconds:.1f}  rows/s {report.read / seconds:,.0f}  peak RSS {memory.peak / 2**30:.2f} GB  "
          f"(memory_limit {args.memory_limit}, threads {args.threads})")
    # On a shared machine wall time overstates the cost: CPU seconds / threads is the uncontended lower bound.
    print(f"cpu seconds {cpu_seconds:.1f}  load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
