"""Runs the dbt unit tests of the code tables by unit (models/intermediate/reporting/_reporting_unit_tests.yml):
which units (code, year, quarter) an incremental build rebuilds, and that it computes only those, pairing them with the
codes of units it keeps."""

from __future__ import annotations

import pytest

from test_measure_459_dbt_unit import HOSTILE_VARS

SELECTION = ["test_type:unit,path:models/intermediate/reporting", "test_type:unit,path:models/reporting"]
UNIT_TESTS = (
    "reporting_unit_digests_touch_changed_new_and_gone_units",
    "reporting_unit_digests_new_reference_data_touch_every_unit",
    "code_overview_incremental_build_counts_only_touched_quarters_and_their_years",
    "code_related_procedures_incremental_build_pairs_with_codes_of_any_unit",
    "code_lines_incremental_build_rewrites_only_the_changed_lines",
)


@pytest.mark.xdist_group("reporting_units")
def test_reporting_units_dbt_unit_tests_pass(dbt_warehouse):
    # Unit tests read their inputs' column types from the warehouse: build empty relations first.
    dbt_warehouse.dbt("seed")
    # the code labels are written by the pipeline before dbt runs (orchestration/assets/code_labels.py)
    dbt_warehouse.execute("create schema labels; "
                          "create table labels.icd10_cm (diagnosis_code varchar, diagnosis_description varchar); "
                          "create table labels.cpt_descriptors (code varchar, descriptor varchar)")
    dbt_warehouse.dbt("run", "--empty", "--select", "+code_related_procedures +int_reporting__unit_digests")
    result = dbt_warehouse.dbt("test", "--select", *SELECTION, "--vars", HOSTILE_VARS)
    # a selection that silently matched nothing would also exit 0
    passed = [line for line in result.stdout.splitlines() if " PASS " in line]
    for name in UNIT_TESTS:
        assert any(f"::{name} " in line for line in passed), f"{name} did not run and pass:\n{result.stdout}"


@pytest.mark.xdist_group("reporting_units")
def test_built_digests_advance_only_with_all_the_by_unit_tables(dbt_warehouse):
    # A hand-picked selection (the Dagster UI, `dbt build -s`) that writes the built digests without all seven code
    # tables would record digests those tables were not built from: their touched units would stay stale.
    dbt_warehouse.dbt("seed")
    dbt_warehouse.execute("create schema labels; "
                          "create table labels.icd10_cm (diagnosis_code varchar, diagnosis_description varchar); "
                          "create table labels.cpt_descriptors (code varchar, descriptor varchar)")
    dbt_warehouse.dbt("run", "--select", "+int_reporting__unit_digests_built")
    built = "intermediate.int_reporting__unit_digests_built"
    # a digest the (empty) data does not give: kept while the build leaves a code table out, gone once all are built
    dbt_warehouse.execute(f"insert into {built} values ('99999', 2024, 1, 1, 1)")
    dbt_warehouse.dbt("run", "--select", "int_reporting__unit_digests_built code_by_payer")
    assert dbt_warehouse.query(f"select code, year from {built}") == [("99999", 2024)]
    dbt_warehouse.dbt("run", "--select", "int_reporting__unit_digests_built code_overview code_by_payer "
                      "code_by_place_of_service code_by_provider_taxonomy code_modifiers code_related_diagnoses "
                      "code_related_procedures")
    assert dbt_warehouse.query(f"select code, year from {built}") == []
