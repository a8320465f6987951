"""Results history: every expectation of every check run, appended to $DATA_DIR/quality_history.duckdb.

A separate file rather than the warehouse: checks read the warehouse read-only, and trend queries must not
take the warehouse's single writer lock.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.quality.validate import SuiteOutcome

HISTORY_FILE = "quality_history.duckdb"
HISTORY_TABLE = "quality.check_history"
_DDL = f"""
create schema if not exists quality;
create table if not exists {HISTORY_TABLE} (
    run_id varchar,
    "check" varchar,
    asset varchar,
    expectation varchar,
    rule varchar,
    severity varchar,
    success boolean,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double,
    evaluated_at timestamp
)
"""


def history_path(data_dir: Path) -> Path:
    return data_dir / HISTORY_FILE


def append_history(data_dir: Path, run_id: str, check: str, asset: str, outcome: SuiteOutcome) -> int:
    rows = pd.DataFrame(
        {
            "run_id": run_id,
            "check": check,
            "asset": asset,
            "expectation": [e.type for e in outcome.expectations],
            "rule": [e.rule for e in outcome.expectations],
            "severity": [e.severity for e in outcome.expectations],
            "success": [e.success for e in outcome.expectations],
            "element_count": pd.array([e.element_count for e in outcome.expectations], dtype="Int64"),
            "unexpected_count": pd.array([e.unexpected_count for e in outcome.expectations], dtype="Int64"),
            "unexpected_percent": pd.array([e.unexpected_percent for e in outcome.expectations], dtype="Float64"),
            "evaluated_at": datetime.now(timezone.utc).replace(tzinfo=None),
        }
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(history_path(data_dir))) as con:
        con.execute(_DDL)
        con.register("new_rows", rows)
        con.execute(f"insert into {HISTORY_TABLE} by name select * from new_rows")
    return len(rows)
