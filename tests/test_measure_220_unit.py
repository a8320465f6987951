"""Runs the measure 220 dbt unit tests (models/intermediate/rehab/*_unit_tests.yml): the boundary cases of the
episode, window, exclusion, scope and residual rules, with vars no unit test expects (each pins its own)."""

from __future__ import annotations

import pytest

from test_measure_459_dbt_unit import HOSTILE_VARS

REHAB_MODELS = "+int_rehab__cases +rehab_episodes"
UNIT_TESTS = ["test_type:unit,path:models/intermediate/rehab"]


@pytest.mark.xdist_group("measure_220_dbt")
def test_measure_220_dbt_unit_tests_pass(dbt_warehouse):
    # Unit tests read their inputs' column types from the warehouse: build empty relations first.
    dbt_warehouse.dbt("seed")
    dbt_warehouse.dbt("run", "--empty", "--select", *REHAB_MODELS.split())
    result = dbt_warehouse.dbt("test", "--select", *UNIT_TESTS, "--vars", HOSTILE_VARS)
    summary = next(line for line in result.stdout.splitlines() if "Done. PASS=" in line)
    passed = int(summary.split("PASS=")[1].split()[0])
    assert passed >= 16, summary
    # the several-years tests (issue 13) ran
    for name in ("rehab_parameters_one_row_per_year_and_nearest_outside", "rehab_episode_gap_of_each_visits_year",
                 "rehab_case_uses_its_end_years_row_and_eligibility", "rehab_features_from_term_definitions"):
        assert name in result.stdout, name
