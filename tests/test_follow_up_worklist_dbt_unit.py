"""Runs the follow-up worklist's dbt unit tests (models/intermediate/follow_up/_follow_up_unit_tests.yml): status
names, threshold and retention as data, the 220 score items and windows, open_until at 60/61 days."""

from __future__ import annotations

import pytest

from test_measure_459_dbt_unit import HOSTILE_VARS

SELECTION = ["test_type:unit,path:models/intermediate/follow_up"]
UNIT_TESTS = (
    "follow_up_statuses_threshold_and_retention_are_data",
    "follow_up_220_items_and_windows",
    "follow_up_220_open_until_and_score_windows",
    "follow_up_220_score_windows",
)


@pytest.mark.xdist_group("follow_up_worklist")
def test_follow_up_dbt_unit_tests_pass(dbt_warehouse):
    # Unit tests read their inputs' column types from the warehouse: build empty relations first.
    dbt_warehouse.dbt("seed")
    dbt_warehouse.dbt("run", "--empty", "--select", "+int_follow_up__cases")
    result = dbt_warehouse.dbt("test", "--select", *SELECTION, "--vars", HOSTILE_VARS)
    # a selection that silently matched nothing would also exit 0
    passed = [line for line in result.stdout.splitlines() if " PASS " in line]
    for name in UNIT_TESTS:
        assert any(f"::{name} " in line for line in passed), f"{name} did not run and pass:\n{result.stdout}"
