"""The suites themselves: each rule catches its defect, examples carry no identifiers, suites load from files."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.quality import validate_published
from orchestration.quality.frames import suite_frame
from orchestration.quality.parameters import allowed_case_outcomes, measure_ids, place_of_service_codes
from orchestration.quality.suites import default_parameters, load_suite
from orchestration.quality.validate import run_suite
from orchestration.raw_schema import create_raw_tables
from orchestration.settings import EXPECTATIONS_DIR
from checks_standin import good_measure_cases, good_rehab_episodes, good_score_pairs
from registry_support import copy_registry


def _validate(name: str, df: pd.DataFrame, schema: str = "marts", params: dict | None = None):
    with duckdb.connect() as con:
        con.execute(f"create schema if not exists {schema}")
        copy_registry(con)
        con.register("frame", df)
        con.execute(f"create table {schema}.{name} as select * from frame")
        frame = suite_frame(con, name)
    return run_suite(frame.df, load_suite(name), params)


def _failed_rules(outcome) -> list[str]:
    return [e.rule for e in outcome.expectations if not e.success]


def _case_params() -> dict:
    """As the check computes them: the registry read from a warehouse (built by dbt from the seeds)."""
    suite = load_suite("measure_cases")
    with duckdb.connect() as con:
        copy_registry(con)
        return {"measure_ids": measure_ids(con),
                "allowed_case_outcomes": allowed_case_outcomes(con, default_parameters(suite)["statuses_without_code"])}


def test_every_suite_declares_rule_and_severity():
    for path in EXPECTATIONS_DIR.glob("*.json"):
        if "expectations" in json.loads(path.read_text()):
            assert load_suite(path.stem)["expectations"]


def test_good_tables_pass():
    assert _validate("score_pairs", good_score_pairs()).success
    assert _validate("measure_cases", good_measure_cases(), params=_case_params()).success
    assert _validate("rehab_episodes", good_rehab_episodes()).success


@pytest.mark.parametrize(
    ("column", "value", "rule_word"),
    [
        ("pre_score_date", date(2024, 12, 9), "pre-op window start"),
        ("post_score_date", date(2025, 4, 20), "follow-up window start"),
        ("improvement", 4.9, "improvement = pre_score - post_score"),
    ],
)
def test_score_pair_defects(column, value, rule_word):
    df = good_score_pairs()
    df[column] = df[column].astype(object)
    df.loc[0, column] = value
    outcome = _validate("score_pairs", df)
    assert outcome.severity == "error"
    assert any(rule_word in r for r in _failed_rules(outcome))


@pytest.mark.parametrize(
    ("status", "code", "residual", "rule_word"),
    [
        ("met", "G2137", None, "qdc_code is the code"),
        ("pending", "G8659", 1.0, "qdc_code is the code"),
        ("not_eligible", "G8659", None, "qdc_code is the code"),
        ("not_measured", None, None, "qdc_code is the code"),
        ("met", "G8659", None, "A residual is present"),
        ("not_measured", "G8662", 2.0, "No residual"),
        ("done", "G8659", 1.0, "status is one of"),
    ],
)
def test_measure_case_defects(status, code, residual, rule_word):
    df = good_measure_cases()
    df["residual"] = df["residual"].astype(object)
    df.loc[2, ["status", "qdc_code", "residual"]] = [status, code, residual]
    outcome = _validate("measure_cases", df, params=_case_params())
    assert any(rule_word in r for r in _failed_rules(outcome))


def test_a_measure_outside_the_registry_fails():
    df = good_measure_cases()
    df.loc[1, "measure_id"] = "999"
    outcome = _validate("measure_cases", df, params=_case_params())
    assert any("measure of the registry" in r for r in _failed_rules(outcome))


def test_a_not_eligible_case_without_code_passes():
    df = good_measure_cases()
    df.loc[1, ["status", "qdc_code"]] = ["not_eligible", None]
    assert _validate("measure_cases", df, params=_case_params()).success


def test_duplicate_case_examples_hide_person_id():
    df = good_measure_cases()
    df = pd.concat([df, df.iloc[[1]]], ignore_index=True)
    outcome = _validate("measure_cases", df, params=_case_params())
    duplicate = next(e for e in outcome.expectations if e.type == "expect_compound_columns_to_be_unique")
    assert not duplicate.success and duplicate.unexpected_count == 2
    assert "P-SECRET" not in json.dumps(duplicate.examples)
    assert "lumbarFusion" in json.dumps(duplicate.examples)
    assert "P-SECRET" not in str(outcome.gx_result)


def test_rehab_episode_defects():
    df = good_rehab_episodes()
    df.loc[0, "end_date"] = date(2024, 12, 31)
    df["discharge_fs"] = df["discharge_fs"].astype(object)
    df.loc[0, "discharge_fs"] = 101
    assert len(_failed_rules(_validate("rehab_episodes", df))) == 2


def test_suites_are_read_from_files_at_run_time(tmp_path, monkeypatch):
    drafts = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, drafts)
    suite = json.loads((drafts / "rehab_episodes.json").read_text())
    suite["expectations"][1]["kwargs"]["max_value"] = 40  # intake 45 becomes out of range
    (drafts / "rehab_episodes.json").write_text(json.dumps(suite))
    assert _validate("rehab_episodes", good_rehab_episodes()).success
    monkeypatch.setenv("QUALITY_EXPECTATIONS_DIR", str(drafts))
    outcome = _validate("rehab_episodes", good_rehab_episodes())
    assert _failed_rules(outcome) == ["The intake functional status score is on the FOTO 0-100 scale."]


CLAIMS = pd.DataFrame(
    {
        "claim_id": ["a", "b", "c", "d"],
        "claim_key": ["|a", "|b", "|c", "|d"],
        "data_source": [None, None, None, None],
        "claim_line_number": [1, 1, 1, 1],
        "hcpcs_code": ["63030", "G2137", "ABCDE", "97161"],
        "place_of_service_code": ["11", "22", "77", "11"],
        "rendering_npi": ["1234567893", "1234567890", None, "123"],
        "service_date": [date(2025, 3, 31), date(2025, 4, 1), date(2021, 1, 1), date(2025, 3, 1)],
    }
)


def _claims_frame(claims: pd.DataFrame = CLAIMS, deliveries: dict[str, str] | None = None):
    """The frame of stg_medical_claim, every line delivered in the 2025-03 delivery (or its claim_key's in
    `deliveries`)."""
    deliveries = deliveries or {}
    with duckdb.connect() as con:
        create_raw_tables(con)
        con.execute("create schema staging")
        con.register("claims", claims.assign(_delivery=[deliveries.get(k, "2025-03") for k in claims["claim_key"]]))
        con.execute("create table staging.stg_medical_claim as select * exclude (_delivery) from claims")
        con.execute(
            "insert into raw.medical_claim (claim_id, claim_line_number, data_source, _delivery) "
            "select claim_id, claim_line_number, data_source, _delivery from claims"
        )
        return suite_frame(con, "stg_medical_claim")


def test_large_claim_table_is_sampled_and_says_so(monkeypatch):
    monkeypatch.setenv("QUALITY_SAMPLE_ROWS", "3")
    frame = _claims_frame()
    assert len(frame.df) == 3 and "sample of 3 of 4 rows" in frame.note


def test_claim_line_rules():
    frame = _claims_frame()
    assert frame.note == "all 4 rows"
    outcome = run_suite(frame.df, load_suite("stg_medical_claim"), {"place_of_service_codes": place_of_service_codes()})
    by_column = {e.columns[0]: e for e in outcome.expectations if not e.success}
    assert outcome.severity == "warn"
    assert by_column["hcpcs_code"].examples[0]["value"] == "ABCDE"
    assert by_column["place_of_service_code"].unexpected_count == 1
    assert sorted(x["value"] for x in by_column["rendering_npi_failing_luhn"].examples) == ["123", "1234567890"]
    assert by_column["days_after_delivery_end"].unexpected_count == 1  # one line dated after March 2025
    too_old = [e for e in outcome.expectations if e.columns == ["days_after_delivery_end"] and not e.success]
    assert len(too_old) == 2  # and one over 3 years before the delivery


def test_a_lines_delivery_is_its_own_sources(monkeypatch):
    """Defect (session 10): the suite found a line's latest delivery by claim_id + claim_line_number, so two sources'
    lines with the same numbers took each other's delivery (the later one hid a line dated after its own
    delivery) and each sampled row was joined to both (the frame had a row too many per source)."""
    two_sources = pd.concat([CLAIMS, pd.DataFrame({
        "claim_id": ["e", "e"], "claim_key": ["1:x|e", "1:y|e"], "data_source": ["x", "y"],
        "claim_line_number": [1, 1], "hcpcs_code": ["97161", "97161"], "place_of_service_code": ["11", "11"],
        "rendering_npi": [None, None], "service_date": [date(2025, 3, 20), date(2025, 2, 15)]})],
        ignore_index=True)
    frame = _claims_frame(two_sources, {"1:y|e": "2025-01"})
    assert frame.note == "all 6 rows" and len(frame.df) == 6
    outcome = run_suite(frame.df, load_suite("stg_medical_claim"), {"place_of_service_codes": place_of_service_codes()})
    failing = sorted(e.unexpected_count for e in outcome.expectations
                     if e.columns == ["days_after_delivery_end"] and not e.success)
    # after its delivery: the 2025-04 line of the 2025-03 delivery, and source y's February line of its January
    # delivery; too old: the 2021 line
    assert failing == [1, 2]


def test_diagnosis_codes_checked_against_icd10_cm():
    diagnoses = pd.DataFrame({"diagnosis_code": ["M5416", "M5416", "M545", "XYZ12", "m5416"]})
    outcome = _validate("stg_claim_diagnosis", diagnoses, schema="staging")
    invalid = next(e for e in outcome.expectations if e.columns == ["invalid_diagnosis_code"])
    shape = next(e for e in outcome.expectations if e.columns == ["diagnosis_code"])
    # M54.5 stopped being billable in FY2022 (split into M54.50-M54.59)
    assert sorted(x["value"] for x in invalid.examples) == ["M545", "XYZ12", "m5416"]
    assert invalid.element_count == 4 and shape.unexpected_count == 1


def test_validate_published():
    good = {
        "code_overview": pd.DataFrame({"hcpcs_code": ["G2137"], "performance_year": [2025], "claims": [0],
                                       "persons": [25], "persons_suppressed": [False]}),
        "performance": pd.DataFrame({"tin": ["123456789"], "met": [pd.NA], "not_met": [40],
                                     "performance_rate": [55.5]}).astype({"met": "Int64"}),
    }
    assert validate_published(good).success
    bad = {
        "code_overview": good["code_overview"].assign(persons=[7]),
        "performance": good["performance"].assign(performance_rate=[101.0]),
        "cases": pd.DataFrame({"person_id": ["x"], "birth_date": [date(1950, 1, 1)]}),
    }
    outcome = validate_published(bad)
    assert outcome.severity == "error"
    assert outcome.locations[outcome.failed("error")[0].rule] == ["code_overview.persons"]
    flat = {loc for locs in outcome.locations.values() for loc in locs}
    assert {"performance.performance_rate", "cases.person_id", "cases.birth_date"} <= flat
