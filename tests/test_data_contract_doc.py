"""docs/data_contract.md describes the contract the loader applies: its column tables (with each column's
severity and what Tuva declares) are the ones orchestration/contract.py generates."""

from pathlib import Path

import yaml

from orchestration.contract import CONTRACTS, ERROR, MAX_DIAGNOSES, MAX_MODIFIERS, WARN, columns_section

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "data_contract.md"


def test_column_tables_are_generated_from_the_contract():
    text = DOC.read_text()
    assert text[text.index("## Columns"):] == columns_section(), \
        "regenerate: python -c 'from orchestration.contract import columns_section; print(columns_section())'"


def test_every_severity_is_known_and_every_stricter_choice_says_why():
    for contract in CONTRACTS.values():
        for column in contract.columns:
            assert column.if_empty in (None, ERROR, WARN) and column.if_malformed in (ERROR, WARN)
            stricter = column.if_empty == ERROR and "error" not in column.tuva and contract.name != "provider"
            assert not stricter or column.note, f"{contract.name}.{column.name}: say why it is stricter than Tuva"


def test_dbt_unpivots_as_many_positions_as_the_contract_loads():
    project_vars = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    assert project_vars["claim_diagnosis_positions"] == MAX_DIAGNOSES
    assert project_vars["claim_modifier_positions"] == MAX_MODIFIERS
