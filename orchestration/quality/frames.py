"""Read a guarded table read-only from the warehouse into pandas, with the suite's helper columns.

The SQL per suite is in orchestration/quality/sql/ (DuckDB does the heavy lifting; pandas only holds the
columns the suite needs). Large tables are sampled with a fixed seed, and the frame says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from string import Template

import duckdb
import pandas as pd

from orchestration.quality.parameters import billable_icd10_cm_codes
from orchestration.spark_warehouse import dialect

SQL_DIR = Path(__file__).parent / "sql"
SAMPLE_SEED = 20260101
DEFAULT_SAMPLE_ROWS = 250_000
SAMPLED_RELATIONS = {"stg_medical_claim": "staging.stg_medical_claim"}


@dataclass
class Frame:
    df: pd.DataFrame
    table_rows: int
    note: str


def sample_rows() -> int:
    """QUALITY_SAMPLE_ROWS bounds the rows a check loads from a large table."""
    return int(os.environ.get("QUALITY_SAMPLE_ROWS", DEFAULT_SAMPLE_ROWS))


def _luhn_digit_sum() -> str:
    """NPI Luhn: digits 1, 3, 5, 7, 9 are doubled (minus 9 when over 9), the others count as they are."""
    terms = []
    for i in range(1, 10):
        digit = f"cast(substr(rendering_npi, {i}, 1) as integer)"
        terms.append(f"(2 * {digit} - case when 2 * {digit} > 9 then 9 else 0 end)" if i % 2 else digit)
    return " + ".join(terms)


def dialect_sql(engine: str, rows: int) -> dict[str, str]:
    """What the suites' SQL spells differently on DuckDB and on Spark (the $-names in sql/*.sql)."""
    delivery_month = "latest_delivery.delivery || '-01'"
    if engine == "spark":
        return {
            # a sample fixed by a hash of the key and the seed (Spark's TABLESAMPLE takes no row count with a seed)
            "sampled": f"select * from staging.stg_medical_claim order by xxhash64(claim_key, claim_line_number, "
                       f"{SAMPLE_SEED}) limit {rows}",
            "semi_join": "left semi join",
            "ten_digits": "(coalesce(rendering_npi, '') rlike '^[0-9]{10}$')",
            "days_after_delivery_end": f"datediff(sampled.service_date, last_day(try_cast({delivery_month} as date)))",
        }
    return {
        "sampled": f"select * from staging.stg_medical_claim using sample reservoir({rows} rows) "
                   f"repeatable ({SAMPLE_SEED})",
        "semi_join": "semi join",
        "ten_digits": "regexp_full_match(coalesce(rendering_npi, ''), '[0-9]{10}')",
        "days_after_delivery_end": f"date_diff('day', last_day(try_strptime({delivery_month}, '%Y-%m-%d')::date), "
                                   "sampled.service_date)",
    }


def suite_frame(con: duckdb.DuckDBPyConnection, suite: str) -> Frame:
    """On Spark the suite's SQL runs in Spark and only its (bounded) result comes to pandas."""
    sql = Template((SQL_DIR / f"{suite}.sql").read_text()).substitute(
        sample_rows=sample_rows(), sample_seed=SAMPLE_SEED, luhn_digit_sum=_luhn_digit_sum(),
        **dialect_sql(dialect(con), sample_rows()),
    )
    if suite == "stg_claim_diagnosis":
        con.register("valid_icd10_cm_codes", billable_icd10_cm_codes())
    df = con.sql(sql).df()
    if suite in SAMPLED_RELATIONS:
        total = con.execute(f"select count(*) from {SAMPLED_RELATIONS[suite]}").fetchone()[0]
        note = (
            f"reservoir sample of {len(df)} of {total} rows (seed {SAMPLE_SEED})"
            if total > len(df)
            else f"all {total} rows"
        )
        return Frame(df, total, note)
    if suite == "stg_claim_diagnosis":
        return Frame(df, int(df.claim_lines.sum()), f"{len(df)} distinct codes on {int(df.claim_lines.sum())} lines")
    return Frame(df, len(df), f"all {len(df)} rows")
