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


def suite_frame(con: duckdb.DuckDBPyConnection, suite: str) -> Frame:
    sql = Template((SQL_DIR / f"{suite}.sql").read_text()).substitute(
        sample_rows=sample_rows(), sample_seed=SAMPLE_SEED
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
