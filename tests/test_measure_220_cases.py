"""Measure 220 end to end on crafted claims and scores: every outcome code appears and the counts reconcile."""

from __future__ import annotations

import pytest

from crafted_claims import claim_lines, load_raw

AS_OF = "2026-06-30"
BACK = "M54.50"


FS, PRED = "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED"


# the boundary cases (tests/test_spark_warehouse.py loads the same rows into a Spark warehouse)
CLAIMS = claim_lines(
    [
        # met: residual exactly 0 (50 - 40 - 10)
        ("p_met", "2026-01-05", "97161", "111111111", BACK),
        ("p_met", "2026-01-20", "97110", "111111111", BACK),
        ("p_met", "2026-02-10", "M1012", "111111111", BACK),
        # not met: residual -0.5
        ("p_not_met", "2026-01-05", "97162", "111111111", BACK),
        ("p_not_met", "2026-02-10", "M1012", "111111111", BACK),
        # not measured: intake, no discharge score
        ("p_no_discharge", "2026-01-05", "97161", "111111111", BACK),
        ("p_no_discharge", "2026-02-10", "M1012", "111111111", BACK),
        # M1122: Parkinson's on an earlier claim outranks a complete score pair
        ("p_parkinson", "2025-06-01", "99213", "999999999", "G20.A1"),
        ("p_parkinson", "2026-01-05", "97161", "111111111", BACK),
        ("p_parkinson", "2026-02-10", "M1012", "111111111", BACK),
        # G9733 reported inside the episode
        ("p_g9733", "2026-01-05", "97161", "111111111", BACK),
        ("p_g9733", "2026-01-06", "G9733", "111111111", BACK),
        ("p_g9733", "2026-02-10", "M1012", "111111111", BACK),
        # pending: no M1012, last visit 15 days before the as-of date
        ("p_open", "2026-06-01", "97161", "111111111", BACK),
        ("p_open", "2026-06-15", "97110", "111111111", BACK),
        # out of scope: TIN 222222222 has no episode with an intake score
        ("p_out", "2026-01-05", "97161", "222222222", BACK),
        ("p_out", "2026-02-10", "M1012", "222222222", BACK),
        # no low back diagnosis: never an episode
        ("p_other", "2026-01-05", "97161", "111111111", "J45.909"),
    ]
)
PERSONS = sorted(CLAIMS["person_id"].unique())
SCORES = [
    ("p_met", "2026-01-05", FS, "40"), ("p_met", "2026-01-05", PRED, "10"), ("p_met", "2026-02-10", FS, "50"),
    ("p_not_met", "2026-01-05", FS, "40"), ("p_not_met", "2026-01-05", PRED, "10"),
    ("p_not_met", "2026-02-10", FS, "49.5"),
    ("p_no_discharge", "2026-01-05", FS, "40"),
    ("p_parkinson", "2026-01-05", FS, "40"), ("p_parkinson", "2026-02-10", FS, "70"),
    ("p_g9733", "2026-01-05", FS, "40"),
    ("p_open", "2026-06-01", FS, "40"),
    ("p_other", "2026-01-05", FS, "40"),
]


@pytest.mark.slow
@pytest.mark.xdist_group("measure_220_dbt")
def test_every_outcome_appears_and_counts_reconcile(dbt_warehouse):
    load_raw(dbt_warehouse.path, CLAIMS, PERSONS, SCORES)
    dbt_warehouse.dbt("build", "--select", "+int_rehab__cases", "+rehab_episodes", "--indirect-selection", "cautious",
                      "--exclude-resource-type", "unit_test", "--vars", f'{{"as_of_date": "{AS_OF}"}}')

    cases = dict(dbt_warehouse.query(
        "select person_id, coalesce(qdc_code, status) from intermediate.int_rehab__cases"
    ))
    assert cases == {
        "p_met": "G8659", "p_not_met": "G8660", "p_no_discharge": "G8662", "p_parkinson": "M1122",
        "p_g9733": "G9733", "p_open": "pending",
    }
    residuals = dict(dbt_warehouse.query(
        "select person_id, residual from intermediate.int_rehab__cases where residual is not null"
    ))
    assert {p: str(r) for p, r in residuals.items()} == {"p_met": "0.000", "p_not_met": "-0.500"}

    episode_count, case_count, out_of_scope = dbt_warehouse.query(
        """
        select
            (select count(*) from marts.rehab_episodes),
            (select count(*) from intermediate.int_rehab__cases),
            (select count(*) from marts.rehab_episodes where tin = '222222222')
        """
    )[0]
    assert episode_count == case_count + out_of_scope
    statuses = dict(dbt_warehouse.query(
        "select status, count(*) from intermediate.int_rehab__cases group by status"
    ))
    assert statuses == {"met": 1, "not_met": 1, "not_measured": 1, "excluded": 2, "pending": 1}
