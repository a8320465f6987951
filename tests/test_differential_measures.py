"""Differential test: the pipeline's measure cases and performance rates against an independent reference
implementation of the spec (tests/reference_measures.py) on adversarial raw files (tests/differential_data.py),
for several seeds and as-of dates. Every case must agree on its person, measure, stratum, dates, outcome
(quality-data code or pending / not_eligible), performance year and TIN, and a scored case on its scores; the
counts and rates of measure_performance (all entities) must agree with the reference's. Differences are printed
case by case (EXCEPT ALL both ways). docs/measures_review.md "Session 9 review: differential" lists what it found.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from differential_data import generate, load
from reference_measures import reference_cases, reference_performance, reference_qpp

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("differential_measures")]

PERSONS = 300
# (seed, as-of date): a mid-year date, a year end (day-140 windows of 2024-08-13 end on it), a date whose
# PY2017-2019 cases are not eligible, and a date past the fusion stratum's first year
RUNS = [(11, "2024-12-31"), (12, "2025-08-31"), (13, "2019-06-30"), (14, "2026-06-30"), (15, "2023-12-31")]
# the open risk model's version the reference applies (intercept and intake FS; other terms count 0)
COEFFICIENTS = {"intercept": 12.5, "intake_fs": -0.1234}

CASE_COLUMNS = ("person_id, measure_id, stratum, index_date, episode_end_date, window_end, outcome, performance_year, "
                "tin, rendering_npi")
SCORE_COLUMNS = ("person_id, measure_id, stratum, index_date, pre_score, pre_score_date, post_score, post_score_date, "
                 "residual")
QPP_COLUMNS = ("tin, performance_year, measure_id, stratum, metric_type, qpp_stratum, performance_met, "
               "performance_not_met, eligible_population")
PERFORMANCE_COLUMNS = ("measure_id, stratum, performance_year, entity_level, tin, cases, pending, not_eligible, "
                       "excluded, met, not_met, not_measured, eligible_population, performance_rate_pct")


def _pipeline_cases(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
    create or replace temp table pipeline_cases as
    select person_id, measure_id, stratum, index_date,
        case when measure_id = '220' then episode_end_date end as episode_end_date, window_end,
        coalesce(qdc_code, status) as outcome, performance_year, tin, rendering_npi,
        pre_score, pre_score_date, post_score, post_score_date, residual, status
    from marts.measure_cases
    """)


def _differences(con: duckdb.DuckDBPyConnection, columns: str, pipeline: str, reference: str) -> list[str]:
    lines = []
    for label, left, right in (("pipeline only", pipeline, reference), ("reference only", reference, pipeline)):
        rows = con.execute(f"select {columns} from {left} except all select {columns} from {right} "
                           f"order by all").fetchall()
        lines += [f"{label}: {row}" for row in rows]
    return lines


def compare(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    """The reference's cases, scores, rates and QPP rows against the pipeline's, on a built warehouse."""
    reference_cases(con, as_of)
    reference_performance(con)
    reference_qpp(con)
    _pipeline_cases(con)
    differences = _differences(con, CASE_COLUMNS, "pipeline_cases", "ref_cases")
    scored = ("(select * from {} where outcome in "
              "(select outcome from ref_outcome_status where status in ('met', 'not_met')))")
    differences += _differences(con, SCORE_COLUMNS, scored.format("pipeline_cases"), scored.format("ref_cases"))
    differences += _differences(
        con, PERFORMANCE_COLUMNS,
        "(select * from reporting.measure_performance where entity_level in ('all', 'tin'))", "ref_performance")
    differences += _differences(con, QPP_COLUMNS, "reporting.qpp_measurements", "ref_qpp")
    return differences


@pytest.mark.parametrize(("seed", "as_of"), RUNS)
def test_pipeline_agrees_with_the_reference_implementation(dbt_warehouse, tmp_path, seed, as_of):
    as_ofs = [date.fromisoformat(a) for _, a in RUNS]
    counts = load(dbt_warehouse.path, generate(seed, PERSONS, as_ofs), tmp_path / "landing")
    # the generated rows follow the data contract: the ingestion keeps every one
    assert all(quarantined == 0 for _, quarantined in counts.values()), counts
    with duckdb.connect(str(dbt_warehouse.path)) as con:
        con.executemany(
            "insert into risk_model.coefficients (version, measure_id, term, coefficient, n, fitted_at) "
            "values (1, '220', ?, ?, 100, ?)",
            [(term, value, datetime(2026, 1, 1)) for term, value in COEFFICIENTS.items()])
    dbt_warehouse.dbt("build", "--select", "+measure_cases", "+measure_performance", "+qpp_measurements",
                      "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test",
                      "--vars", f'{{"as_of_date": "{as_of}"}}')

    with duckdb.connect(str(dbt_warehouse.path)) as con:
        differences = compare(con, date.fromisoformat(as_of))
        cases = con.execute("select count(*), count(distinct outcome) from ref_cases").fetchone()

    assert not differences, f"{len(differences)} differences (seed {seed}, as-of {as_of}):\n" + "\n".join(differences)
    assert cases[0] > PERSONS / 2 and cases[1] > 10, cases  # the data made cases of many outcomes
