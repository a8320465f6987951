"""Differential test: the pipeline's measure cases, performance rates and QPP rows against an independent
reference implementation of the spec (tests/reference_measures.py) on adversarial raw files
(tests/differential_data.py) loaded by the project's ingestion, for several seeds and as-of dates, and for one seed
delivered month by month and built incrementally. Every case must agree on its person, measure, stratum, dates,
outcome (quality-data code or pending / not_eligible), performance year, TIN and NPI, and a met / not met case on
its scores, their dates and its residual; measure_performance (all TINs and per TIN) and qpp_measurements must
agree with the reference's counts and rates. Differences are printed case by case (EXCEPT ALL both ways).
docs/measures_review.md "Session 9 review: differential" says what was compared and what it found.
"""

from __future__ import annotations

import random
from datetime import date, datetime

import duckdb
import pytest

from differential_data import OPEN_MODEL, generate, load, month_of, monthly_deliveries
from reference_measures import reference_cases, reference_performance, reference_qpp

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("differential_measures")]

PERSONS = 300
# (seed, as-of date): a mid-year date, a year end (day-140 windows of 2024-08-13 end on it), a date whose
# PY2017-2019 cases are not eligible, and a date past the fusion stratum's first year
RUNS = [(11, "2024-12-31"), (12, "2025-08-31"), (13, "2019-06-30"), (14, "2026-06-30"), (15, "2023-12-31"),
        (16, "2027-12-31")]
AS_OFS = [date.fromisoformat(as_of) for _, as_of in RUNS]  # the generator puts window ends on them
FEED_SEED = 17
# forward through the years, then back to an earlier date on the same warehouse
FEED_AS_OFS = ["2018-12-31", "2021-12-31", "2024-08-13", "2025-08-31", "2027-12-31", "2019-06-30"]

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


def _open_model(dbt_warehouse) -> None:
    with duckdb.connect(str(dbt_warehouse.path)) as con:
        con.executemany(
            "insert into risk_model.coefficients (version, measure_id, term, coefficient, n, fitted_at) "
            "values (1, '220', ?, ?, 100, ?)",
            [(term, value, datetime(2026, 1, 1)) for term, value in OPEN_MODEL.items()])


def _build_and_compare(dbt_warehouse, as_of: str, label: str) -> tuple[int, int]:
    dbt_warehouse.dbt("build", "--select", "+measure_cases", "+measure_performance", "+qpp_measurements",
                      "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test",
                      "--vars", f'{{"as_of_date": "{as_of}"}}')
    with duckdb.connect(str(dbt_warehouse.path)) as con:
        differences = compare(con, date.fromisoformat(as_of))
        cases = con.execute("select count(*), count(distinct outcome) from ref_cases").fetchone()
    assert not differences, f"{len(differences)} differences ({label}, as-of {as_of}):\n" + "\n".join(differences)
    return cases


@pytest.mark.parametrize(("seed", "as_of"), RUNS)
def test_pipeline_agrees_with_the_reference_implementation(dbt_warehouse, tmp_path, seed, as_of):
    counts = load(dbt_warehouse.path, generate(seed, PERSONS, AS_OFS), tmp_path / "landing")
    # the generated rows follow the data contract: the ingestion keeps every one
    assert all(quarantined == 0 for _, quarantined in counts.values()), counts
    _open_model(dbt_warehouse)
    cases, outcomes = _build_and_compare(dbt_warehouse, as_of, f"seed {seed}")
    # the data made many cases of several outcomes (at 2019-06-30 most rows are later, and 459-471 are not defined)
    assert cases > PERSONS / 3 and outcomes >= 5, (cases, outcomes)


def test_a_monthly_feed_built_incrementally_agrees_at_every_as_of_date(dbt_warehouse, tmp_path):
    """The rows of a seed delivered month by month (late rows, corrections months later), loaded and built as the
    as-of date moves forward - the incremental claim staging's path - then rebuilt at an earlier as-of date."""
    files = monthly_deliveries(generate(FEED_SEED, PERSONS, AS_OFS), random.Random(FEED_SEED))
    deliveries = {row["_delivery"] for rows in (files.claims, files.observations, files.eligibility) for row in rows}
    _open_model(dbt_warehouse)
    loaded: set[str] = set()
    for as_of in FEED_AS_OFS:
        # what has arrived by the month after the as-of date (rows dated after it among them)
        arrived = {d for d in deliveries if d <= month_of(date.fromisoformat(as_of), 1)} - loaded
        if arrived:
            counts = load(dbt_warehouse.path, files, tmp_path / "landing", arrived)
            assert all(quarantined == 0 for _, quarantined in counts.values()), counts
            loaded |= arrived
        _build_and_compare(dbt_warehouse, as_of, f"feed seed {FEED_SEED}")
