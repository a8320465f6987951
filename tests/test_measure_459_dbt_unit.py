"""The dbt unit tests of the staging layer and the measure 459/461/471 engine (YAML `unit_tests:` beside the
models), run on a throwaway warehouse so that `make test` covers every boundary case.

They run with vars no unit test expects (an as-of date years before every fixture, a TIN list, a model version):
each unit test pins the vars its model reads, so a run's settings can never change its outcome."""

from __future__ import annotations

import json

import pytest

UNIT_TESTS = ["test_type:unit,+int_pairs__cases", "test_type:unit,+score_pairs", "test_type:unit,path:models/staging"]
HOSTILE_VARS = json.dumps({"as_of_date": "2000-01-01", "measure_220_tins_in_scope": ["000000000"],
                           "risk_model_version": 999})


@pytest.mark.xdist_group("dbt_measure_459")
def test_measure_459_dbt_unit_tests_pass(dbt_warehouse):
    dbt_warehouse.dbt("seed")
    dbt_warehouse.dbt("run", "--empty", "--select", "+int_pairs__cases +score_pairs")
    result = dbt_warehouse.dbt("test", "--select", *UNIT_TESTS, "--vars", HOSTILE_VARS)
    # a selection that silently matched nothing would also exit 0
    assert "pairs_outcome_thresholds_pending_and_order" in result.stdout
    assert "stg_claims_latest_delivery_wins" in result.stdout
    assert "stg_claims_incremental_build_ranks_the_touched_lines_again" in result.stdout
    assert "stg_medical_claim_as_of_cut_and_payer" in result.stdout
    # several performance years in one run (issue 13)
    assert "pairs_each_case_uses_its_own_years_row_and_value_set" in result.stdout
    assert "pairs_outcome_by_year_threshold_and_not_eligible_first" in result.stdout
    # the session 8 conformance audit (docs/measures_review.md)
    assert "spec_audit_pairs_performance_year_at_the_window_end_and_leap_day_windows" in result.stdout
