"""SQL checks on raw tables, and dbt tests surfacing as Dagster asset checks."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration.checks.sql_checks import CHECKS
from orchestration.ingest.ledger import create_ledger
from orchestration.raw_schema import create_raw_tables
from orchestration.resources import WarehouseResource


def _check(table: str, name: str) -> dg.AssetChecksDefinition:
    return next(c for c in CHECKS if dg.AssetCheckKey(dg.AssetKey(["raw", table]), name) in c.check_keys)


@pytest.fixture
def warehouse(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        create_raw_tables(con)
        create_ledger(con)
        con.execute(
            "insert into raw.medical_claim (claim_id, claim_line_number, _delivery) values "
            "('a', 1, '2025-01'), ('a', 1, '2025-01'), ('b', 1, '2025-01'), ('a', 1, '2025-02')"
        )
        con.execute("insert into raw.medical_claim__quarantine (_delivery, rule) values ('2025-02', 'bad_date')")
        con.execute(
            "insert into raw._deliveries (table_name, delivery, rows_read, rows_loaded, rows_quarantined, status) "
            "values ('medical_claim', '2025-01', 3, 3, 0, 'loaded'), ('medical_claim', '2025-02', 3, 1, 1, 'loaded')"
        )
    return WarehouseResource(data_dir=str(tmp_path))


def test_duplicate_keys_within_a_delivery_warn(warehouse):
    result = _check("medical_claim", "key_unique_per_delivery")(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["deliveries_with_duplicates"].value == 1  # 'a' twice in 2025-01; its re-delivery in 2025-02 is no duplicate


def test_quarantine_share_over_threshold_warns(warehouse):
    result = _check("medical_claim", "quarantine_share")(warehouse=warehouse)
    assert not result.passed and result.metadata["deliveries_over"].value == 1
    assert result.metadata["max_share"].value == 0.5


def test_warn_level_gaps_are_a_non_blocking_warning_counted_per_rule(warehouse):
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("insert into raw.medical_claim__warnings (_delivery, rule, column_name) values "
                    "('2025-01', 'missing_hcpcs_code', 'hcpcs_code'), ('2025-02', 'missing_hcpcs_code', 'hcpcs_code'), "
                    "('2025-02', 'missing_diagnosis_code_1', 'diagnosis_code_1')")
    check = _check("medical_claim", "warn_level_gaps")
    assert not next(iter(check.check_specs)).blocking
    result = check(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["rows_with_gaps"].value == 3
    assert result.metadata["by_rule"].value == {"missing_hcpcs_code (hcpcs_code)": 2,
                                                "missing_diagnosis_code_1 (diagnosis_code_1)": 1}
    assert _check("eligibility", "warn_level_gaps")(warehouse=warehouse).passed


def test_ledger_that_does_not_add_up_is_an_error(warehouse):
    result = _check("medical_claim", "ledger_reconciles")(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "2025-02" in result.metadata["mismatches"].value
    assert "2025-01" not in result.metadata["mismatches"].value
    assert _check("eligibility", "ledger_reconciles")(warehouse=warehouse).passed


def test_dbt_tests_are_asset_checks():
    from orchestration.assets.dbt_models import dbt_models

    checked = {k.asset_key for k in dbt_models.check_keys}
    assert dg.AssetKey("base_medical_claim") in checked
    assert dg.AssetKey("measure_cases") in checked
