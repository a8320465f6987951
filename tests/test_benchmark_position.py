"""Position against CMS benchmarks (measure_benchmark_position): decile and achievement points computed here,
independently, from CMS's benchmarks.json as kept in the project, and compared with the dbt model and the
published table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import SEEDS_DIR
from publish_support import run_dbt_models
from registry_support import copy_registry

BENCHMARKS = json.loads((SEEDS_DIR / "qpp" / "benchmarks.json").read_text())
MIN_CASES = 20


def cms_bounds(measure_id: str, year: int, method: str = "registry") -> list[float] | None:
    """The lower bounds of deciles 2..10 as CMS gives them: `deciles` before PY2023, percentiles 10..90 after."""
    for b in BENCHMARKS["benchmarks"].get(str(year), []):
        if b["measureId"] == measure_id and b["submissionMethod"] == method:
            if "percentiles" in b:
                return [b["percentiles"][str(p)] for p in range(10, 100, 10)]
            return b["deciles"]
    return None


def expected_position(rate: float, bounds: list[float], floor: float) -> tuple[int, float]:
    """Decile: 1 + the number of lower bounds the rate reaches. Points: decile 10 -> 10; else the decile plus
    the share of the decile's range covered, truncated to 2 decimals, at least the year's floor."""
    decile = 1 + sum(rate >= b for b in bounds)
    if decile == 10:
        return decile, 10.0
    start = 0.0 if decile == 1 else bounds[decile - 2]
    end = bounds[decile - 1]
    return decile, max(floor, decile + math.floor(100 * (rate - start) / (end - start)) / 100)


EDGES = [
    # (performance year, met, eligible, decile, points)
    (2024, 0, 40, 1, 1.0),          # 0 %: decile 1 starts at 0 (no floor from PY2023)
    (2024, 23, 40, 3, 3.86),        # 57.5 %: 53.02 <= rate < 58.18, 3 + 4.48 / 5.16 truncated
    (2024, 30, 40, 5, 5.95),        # 75.0 %: just below the 50th percentile (75.3), 5 + 7.03 / 7.33
    (2024, 40, 40, 10, 10.0),       # 100 %: the 80th and 90th percentiles are both 100 -> decile 10
    (2021, 16, 40, 3, 3.0),         # 40.0 % is decile 3's lower bound itself (inclusive)
    (2021, 15, 40, 2, 3.0),         # 37.5 %: decile 2 (2.62 points) lifted to the 3-point floor of PY2021
    (2019, 10, 40, 1, 3.0),         # 25 % in PY2019: decile 1, 3-point floor until PY2022
    (2023, 19, 19, None, None),     # fewer than 20 cases: no position
    (2018, 30, 40, None, None),     # PY2018: CMS published no 220 benchmark
]


@pytest.fixture(scope="module")
def edge_positions(tmp_path_factory) -> dict[str, tuple]:
    """The dbt model measure_benchmark_position on one TIN per edge case (TIN = its index in EDGES)."""
    warehouse = tmp_path_factory.mktemp("positions") / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        copy_registry(con)
        con.execute("create schema reporting")
        con.execute(
            "create table reporting.measure_performance (measure_id varchar, stratum varchar, performance_year "
            "integer, entity_level varchar, tin varchar, rendering_npi varchar, eligible_population bigint, met "
            "bigint, performance_rate_pct decimal(5, 2))")
        con.executemany(
            "insert into reporting.measure_performance values ('220', 'all', ?, 'tin', ?, null, ?, ?, "
            "round(100.0 * ? / ?, 2))",
            [[year, str(i), eligible, met, met, eligible] for i, (year, met, eligible, *_) in enumerate(EDGES)])
    run_dbt_models(warehouse, "measure_benchmark_position")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select tin, decile, achievement_points, position_status, benchmark "
                           "from reporting.measure_benchmark_position").fetchall()
    return {tin: rest for tin, *rest in rows}


@pytest.mark.parametrize(("index", "edge"), list(enumerate(EDGES)))
def test_decile_and_points_at_the_edges(edge_positions, index, edge):
    year, met, eligible, decile, points = edge
    row = edge_positions[str(index)]
    rate = 100.0 * met / eligible
    bounds = cms_bounds("220", year)
    if bounds is None or eligible < MIN_CASES:
        assert row[:2] == [None, None]
        assert row[2] == ("no_benchmark" if bounds is None else "below_case_minimum")
        return
    floor = 3.0 if year <= 2022 else 1.0
    assert (row[0], float(row[1])) == expected_position(rate, bounds, floor) == (decile, points)
    assert row[2] == "positioned" and "benchmark year" in row[3]


@pytest.mark.slow
@pytest.mark.xdist_group("e2e")
def test_position_of_a_220_tin_on_demo_data_checked_by_hand(pipeline_run):
    """One TIN of the generated demo data: its rate from the case table, its decile and points from CMS's JSON."""
    settings = pipeline_run.settings
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute(f"attach '{settings.published_db_path}' as pub (read_only)")
        positioned = con.execute(
            "select tin, performance_year, decile, achievement_points, performance_rate_pct, benchmark "
            "from pub.measure_benchmark_position where measure_id = '220' and entity_level = 'tin' "
            "and position_status = 'positioned' order by performance_year, tin").fetchall()
        assert positioned, "no 220 TIN positioned on the demo data"
        tin, year, decile, points, published_rate, benchmark = positioned[0]
        met, eligible = con.execute(
            "select count_if(status = 'met'), count_if(status in ('met', 'not_met', 'not_measured')) "
            "from marts.measure_cases where measure_id = '220' and tin = ? and performance_year = ?",
            [tin, year]).fetchone()
        small = con.execute(
            "select count(*) from pub.measure_benchmark_position p where measure_id = '220' and entity_level = 'tin' "
            "and position_status = 'positioned' and tin in (select tin from marts.measure_cases where measure_id = "
            "'220' and performance_year = p.performance_year and status in ('met', 'not_met', 'not_measured') "
            "group by tin having count(*) < 20)").fetchone()[0]
        no_459 = con.execute(
            "select distinct benchmark from pub.measure_benchmark_position where measure_id = '459'").fetchall()
    assert eligible >= MIN_CASES and small == 0
    rate = 100.0 * met / eligible
    assert float(published_rate) == round(rate, 2)
    assert (decile, float(points)) == expected_position(rate, cms_bounds("220", year), 1.0 if year >= 2023 else 3.0)
    assert f"benchmark year {next(b['benchmarkYear'] for b in BENCHMARKS['benchmarks'][str(year)])}" in benchmark
    assert no_459 and all(b.startswith("no CMS benchmark: BR-009") for (b,) in no_459)
    page = (Path(settings.published_dir) / "site" / "measures" / "220.html").read_text()
    assert "Position against the CMS benchmark" in page
