"""Crafted raw rows through dbt to measure_cases: every code of measure 459 appears, the case counts
reconcile, and 461 / 471 come out of the same engine."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

AS_OF = "2025-06-30"

# person, birth date, procedure code, procedure date, exclusion diagnosis (or null)
SURGERIES = [
    ("met_post", "1960-01-01", "63030", "2024-01-10", None),
    ("met_improvement", "1960-01-01", "63030", "2024-01-10", None),
    ("not_met", "1960-01-01", "63030", "2024-01-10", None),
    ("not_measured", "1960-01-01", "63047", "2024-01-10", None),
    ("fusion_met", "1960-01-01", "22612", "2024-01-10", None),
    ("fusion_not_met", "1960-01-01", "22630", "2024-01-10", None),
    ("fusion_not_measured", "1960-01-01", "22633", "2024-01-10", None),
    ("excluded", "1960-01-01", "63030", "2024-01-10", "C41.2"),
    ("pending", "1960-01-01", "63030", "2025-06-01", None),
    ("minor", "2007-01-11", "63030", "2024-01-10", None),
]

# person, code, date, result
SCORES = [
    ("met_post", "72514-3", "2024-04-10", "3.0"),
    ("met_improvement", "72514-3", "2023-12-01", "8.1"),
    ("met_improvement", "72514-3", "2024-04-10", "3.1"),
    ("not_met", "72514-3", "2023-12-01", "8.2"),
    ("not_met", "72514-3", "2024-04-10", "4.0"),
    ("fusion_met", "38214-3", "2025-01-10", "1"),
    ("fusion_not_met", "38214-3", "2025-01-10", "7"),
    ("met_post", "97909-6", "2024-04-10", "20"),
    ("met_post", "LEG-PAIN-NRS", "2024-04-10", "6"),
    ("met_post", "LEG-PAIN-NRS", "2023-12-10", "9"),
]


def _insert_raw(wh) -> None:
    claims = []
    for i, (person, _birth, code, day, diagnosis) in enumerate(SURGERIES):
        dx = f"'{diagnosis}'" if diagnosis else "'M51.16'"
        claims.append(f"('c{i}', 1, '{person}', 'Medicare', DATE '{day}', '{code}', {dx}, '1234567893', '123456789',"
                      f" 'd1', TIMESTAMP '2025-07-01', {i + 2})")
    # the same line delivered twice: the later delivery wins and the case is counted once
    claims.append("('c0', 1, 'met_post', 'Medicare', DATE '2024-01-10', '63030', 'M51.16', '1234567893', '123456789',"
                  " 'd2', TIMESTAMP '2025-07-02', 2)")
    wh.execute(
        "insert into raw.medical_claim (claim_id, claim_line_number, person_id, payer, claim_start_date, hcpcs_code,"
        " diagnosis_code_1, rendering_npi, rendering_tin, _delivery, _loaded_at, _line_number) values "
        + ", ".join(claims)
    )
    wh.execute(
        "insert into raw.eligibility (person_id, gender, birth_date, enrollment_start_date, payer, payer_type) values "
        + ", ".join(f"('{p}', 'female', DATE '{b}', DATE '2020-01-01', 'Medicare', 'medicare')"
                    for p, b, *_ in SURGERIES)
    )
    wh.execute(
        "insert into raw.observation (person_id, observation_date, source_code, result) values "
        + ", ".join(f"('{p}', DATE '{d}', '{c}', '{r}')" for p, c, d, r in SCORES)
    )


@pytest.mark.slow
@pytest.mark.xdist_group("dbt_measure_459")
def test_crafted_rows_produce_every_459_code_and_reconcile(dbt_warehouse):
    _insert_raw(dbt_warehouse)
    dbt_warehouse.dbt("build", "--select", "+measure_cases", "+score_pairs", "--indirect-selection", "cautious",
                      "--exclude-resource-type", "unit_test", "--vars", json.dumps({"as_of_date": AS_OF}))

    codes = dict(dbt_warehouse.query(
        "select person_id, coalesce(qdc_code, status) from marts.measure_cases where measure_id = '459'"))
    assert codes == {
        "met_post": "G2136", "met_improvement": "G2136", "not_met": "G2137", "not_measured": "G9943",
        "fusion_met": "G2138", "fusion_not_met": "G2139", "fusion_not_measured": "G9946",
        "excluded": "G9945", "pending": "pending",
    }

    improvement, = dbt_warehouse.query(
        "select improvement from marts.measure_cases where measure_id = '459' and person_id = 'met_improvement'")[0]
    assert improvement == Decimal("5.000")

    for measure, total, met, not_met, not_measured, excluded, pending in dbt_warehouse.query("""
        select measure_id, count(*),
               count(case when status = 'met' then 1 end), count(case when status = 'not_met' then 1 end),
               count(case when status = 'not_measured' then 1 end), count(case when status = 'excluded' then 1 end),
               count(case when status = 'pending' then 1 end)
        from marts.measure_cases where measure_id in ('459', '461', '471') group by measure_id"""):
        assert total == met + not_met + not_measured + excluded + pending == len(SURGERIES) - 1, measure

    by_measure = dict(dbt_warehouse.query(
        "select measure_id, qdc_code from marts.measure_cases where person_id = 'met_post' and measure_id <> '459'"))
    assert by_measure == {"461": "G2141", "471": "G2144"}

    pairs = dbt_warehouse.query("select count(*), count(distinct case_id) from marts.score_pairs")[0]
    assert pairs == (3 * (len(SURGERIES) - 1),) * 2
