"""A small warehouse with the guarded tables and a stand-in graph around the real GX checks.

Shared by the blocking test and the browser test. The stand-in assets carry the real asset keys; their
tables are written by the test (good rows, then injected defects), so the checks read exactly what a
run of the real models would leave in marts.*. `published_tables` writes aside and swaps like the real one.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from orchestration.checks.gx_checks import CHECKS as GX_CHECKS
from orchestration.resources import WarehouseResource
from registry_support import copy_registry

GUARDED = ("score_pairs", "measure_cases", "rehab_episodes")


def good_score_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ["c1", "c2"],
            "measure_id": ["459", "471"],
            "stratum": ["lumbarDiscectomy", "lumbarFusion"],
            "instrument": ["back_pain", "odi"],
            "score_min": [0, 0],
            "score_max": [10, 100],
            "index_date": [date(2025, 3, 10), date(2024, 5, 31)],
            "pre_window_start": [date(2024, 12, 10), date(2024, 2, 29)],
            "pre_window_end": [date(2025, 3, 10), date(2024, 5, 31)],
            "window_start": [date(2025, 4, 21), date(2025, 2, 28)],
            "window_end": [date(2025, 7, 28), date(2025, 8, 31)],
            "pre_score": [Decimal("8.2"), Decimal("60")],
            "pre_score_date": [date(2025, 3, 1), date(2024, 5, 1)],
            "post_score": [Decimal("3.2"), Decimal("20")],
            "post_score_date": [date(2025, 6, 9), date(2025, 5, 30)],
            "improvement": [Decimal("5.0"), Decimal("40")],
        }
    )


def good_measure_cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ["c1", "c2", "c3", "c4"],
            "person_id": ["P-SECRET-1", "P-SECRET-2", "P-SECRET-3", "P-SECRET-4"],
            "measure_id": ["459", "471", "220", "220"],
            "stratum": ["lumbarDiscectomy", "lumbarFusion", "overall", "overall"],
            "index_date": [date(2025, 3, 10), date(2024, 5, 31), date(2025, 1, 6), date(2025, 2, 3)],
            "status": ["met", "met", "met", "pending"],
            "qdc_code": ["G2136", "G2142", "G8659", None],
            "residual": [None, None, Decimal("1.5"), None],
            "performance_year": [2025, 2025, 2025, 2025],
        }
    )


def good_rehab_episodes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "episode_id": ["e1"],
            "start_date": [date(2025, 1, 6)],
            "end_date": [date(2025, 3, 1)],
            "end_reason": ["discharge"],
            "intake_fs": [Decimal("45")],
            "intake_date": [date(2025, 1, 6)],
            "discharge_fs": [Decimal("70")],
            "discharge_date": [date(2025, 3, 1)],
        }
    )


def write_tables(warehouse: Path, tables: dict[str, pd.DataFrame]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        copy_registry(con)
        for name, df in tables.items():
            con.register("frame", df)
            con.execute(f"create or replace table marts.{name} as select * from frame")
            con.unregister("frame")


def good_tables() -> dict[str, pd.DataFrame]:
    return {"score_pairs": good_score_pairs(), "measure_cases": good_measure_cases(),
            "rehab_episodes": good_rehab_episodes()}


def _standin(name: str) -> dg.AssetsDefinition:
    @dg.asset(name=name, description=f"stand-in for the dbt model {name}: the test writes marts.{name}")
    def _model() -> dg.MaterializeResult:
        return dg.MaterializeResult()

    return _model


@dg.asset(deps=[dg.AssetKey(n) for n in GUARDED], description="stand-in publish: counts per code, swapped in")
def published_tables(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    aside = settings.data_dir / "published.duckdb.new"
    aside.unlink(missing_ok=True)
    with warehouse.connect(read_only=True) as con:
        counts = con.sql("select qdc_code, count(*) * 20 as cases from marts.measure_cases group by all").df()
    with duckdb.connect(str(aside)) as out:
        out.register("counts", counts)
        out.execute("create table code_counts as select * from counts order by qdc_code")
    os.replace(aside, settings.published_db_path)
    return dg.MaterializeResult(metadata={"tables": 1})


def definitions(data_dir: Path) -> dg.Definitions:
    """Stand-in assets + the real gx checks of the guarded marts (the real publication's check, one per published
    table, runs in the end-to-end tests)."""
    wanted = {dg.AssetKey(n) for n in (*GUARDED, "published_tables")}
    checks = [c for c in GX_CHECKS if {k.asset_key for k in c.check_keys} <= wanted]
    return dg.Definitions(
        assets=[*(_standin(n) for n in GUARDED), published_tables],
        asset_checks=checks,
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
    )
