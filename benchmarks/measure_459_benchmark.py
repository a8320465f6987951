"""Benchmark of the staging layer and the measure 459/461/471 models at scale.

Fabricates raw tables with DuckDB SQL (default 1M persons, 10 claim lines each, ~2% with a lumbar surgery and
pre/post scores), runs `dbt run` on the staging + pre/post models, and prints seconds per model from
run_results.json plus the wall time. Figures, not assertions: compare runs on the same machine.

    .venv/bin/python benchmarks/measure_459_benchmark.py [--persons 1000000] [--lines-per-person 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from orchestration.raw_schema import create_raw_tables  # noqa: E402

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
SELECTION = "+int_pairs__cases +score_pairs"
AS_OF = "2025-12-31"


def fabricate(path: Path, persons: int, lines_per_person: int) -> None:
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        con.execute(f"""
            insert into raw.eligibility (person_id, gender, birth_date, enrollment_start_date, enrollment_end_date,
                                         payer, payer_type, plan, _delivery, _loaded_at, _line_number)
            select 'P' || i, case when i % 2 = 0 then 'female' else 'male' end,
                   DATE '1940-01-01' + cast(i % 25000 as integer), DATE '2020-01-01', null,
                   case i % 4 when 0 then 'Medicare' when 1 then 'aetna' when 2 then 'Medicaid' else 'Cigna' end,
                   case i % 4 when 0 then 'medicare' when 2 then 'medicaid' else 'commercial' end,
                   'plan', 'd1', TIMESTAMP '2026-01-01', i + 1
            from range({persons}) t(i)
        """)
        # surgery lines for every 50th person (alternating decompression and fusion), everything else office visits
        con.execute(f"""
            insert into raw.medical_claim (claim_id, claim_line_number, claim_type, person_id, payer, plan,
                claim_start_date, claim_line_start_date, place_of_service_code, service_unit_quantity, hcpcs_code,
                hcpcs_modifier_1, rendering_npi, rendering_tin, billing_npi, billing_tin, paid_amount,
                allowed_amount, charge_amount, diagnosis_code_type, diagnosis_code_1, diagnosis_code_2,
                diagnosis_code_3, data_source, _delivery, _loaded_at, _line_number)
            select 'C' || (n // 2), cast(n % 2 + 1 as integer), 'professional', 'P' || p,
                   case p % 4 when 0 then 'Medicare' when 1 then 'aetna' when 2 then 'Medicaid' else 'Cigna' end,
                   'plan', d, d, '11', 1,
                   case when p % 50 = 0 and k = 0 then (case when p % 100 = 0 then '22612' else '63030' end)
                        else '99213' end,
                   case when k % 3 = 0 then 'GP' end,
                   '1' || lpad(cast(p % 5000 as varchar), 9, '0'), lpad(cast(p % 700 as varchar), 9, '0'),
                   null, null, 50.00, 60.00, 120.00, 'icd-10-cm',
                   case when p % 997 = 0 and k = 1 then 'C41.2' else 'M51.16' end, 'M54.50',
                   case when k % 2 = 0 then 'I10' end,
                   'bench', 'd1', TIMESTAMP '2026-01-01', n + 1
            from (
                select p, k, p * {lines_per_person} + k as n,
                       DATE '2023-01-01' + cast((p * 7 + k * 37) % 1000 as integer) as d
                from range({persons}) a(p), range({lines_per_person}) b(k)
            )
        """)
        con.execute("""
            insert into raw.observation (observation_id, person_id, observation_date, source_code, result,
                                         _delivery, _loaded_at, _line_number)
            select 'O' || row_number() over (), person_id, service_date + cast(offset_days as integer), code,
                   cast((hash(person_id || offset_days) % 100) / 10.0 as varchar), 'd1', TIMESTAMP '2026-01-01',
                   row_number() over ()
            from (
                select person_id, coalesce(claim_line_start_date, claim_start_date) as service_date
                from raw.medical_claim where hcpcs_code in ('22612', '63030')
            ) s, (values (-20, '72514-3'), (90, '72514-3'), (95, '38214-3'), (365, '72514-3'),
                         (-10, '97909-6'), (92, '97909-6'), (80, 'LEG-PAIN-NRS')) o(offset_days, code)
        """)
        counts = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                  for t in ("medical_claim", "eligibility", "observation")}
    print("raw rows:", ", ".join(f"{t}={n:,}" for t, n in counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--lines-per-person", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="measure_459_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    started = time.perf_counter()
    fabricate(warehouse, args.persons, args.lines_per_person)
    print(f"fabricate: {time.perf_counter() - started:.1f} s")

    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "WAREHOUSE_PATH": str(warehouse),
           "DBT_TARGET_PATH": str(workdir / "target"), "DBT_LOG_PATH": str(workdir / "logs")}
    dbt = Path(sys.executable).with_name("dbt")
    common = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    subprocess.run([str(dbt), "seed", "-q", *common], env=env, check=True)
    started = time.perf_counter()
    subprocess.run([str(dbt), "run", "-q", "--select", SELECTION, "--vars", json.dumps({"as_of_date": AS_OF}),
                    *common], env=env, check=True)
    wall = time.perf_counter() - started

    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    print(f"{'model':40s} {'seconds':>8s}")
    for result in sorted(results, key=lambda r: -r["execution_time"]):
        print(f"{result['unique_id'].split('.')[-1]:40s} {result['execution_time']:8.2f}")
    print(f"{'sum of model times':40s} {sum(r['execution_time'] for r in results):8.2f}")
    print(f"{'dbt run wall time (incl. start-up)':40s} {wall:8.2f}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for measure, status, n in con.execute(
                "select measure_id, status, count(*) from intermediate.int_pairs__cases group by all order by all"
        ).fetchall():
            print(f"cases {measure} {status:14s} {n:,}")


if __name__ == "__main__":
    main()
