"""Tuva's claim-line grain (session 10): a claim line is claim_id + claim_line_number + data_source, a claim is
data_source + claim_id. Two sources in one landing (two practices' billing systems, both numbering claims from 1)
keep their lines and claims apart through the ingestion, the incremental claim staging, the code tables and the
measures; a source's later delivery of a line replaces that source's version only; and the incremental build
equals a full rebuild (EXCEPT ALL both ways).

Before the fix: the two sources' lines of one delivery were quarantined as conflicting versions of each other, and
a later delivery of source a's line replaced source b's line too (one key)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from conftest import DbtWarehouse
from orchestration.assets.code_labels import write_code_labels
from orchestration.ingest.loader import load_delivery

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("claim_grain")]

AS_OF = "2024-12-31"
BACK = "M54.50"
HEADER = ("claim_id,claim_line_number,data_source,person_id,claim_start_date,hcpcs_code,hcpcs_modifier_1,"
          "rendering_tin,rendering_npi,diagnosis_code_1,payer")
TIN, NPI = "111111111", "1111111112"
# both practices number their claims from 1: claim C1 of practice_a is person pa's, C1 of practice_b is pb's
FIRST = [
    f"C1,1,practice_a,pa,2024-03-05,97161,GP,{TIN},{NPI},{BACK},Medicare",
    f"C1,2,practice_a,pa,2024-04-20,M1012,,{TIN},{NPI},{BACK},Medicare",
    f"C1,1,practice_b,pb,2024-03-06,97161,,{TIN},{NPI},{BACK},Medicare",
    f"C1,2,practice_b,pb,2024-04-21,M1012,,{TIN},{NPI},{BACK},Medicare",
    f"C1,3,practice_b,pb,2024-03-06,97110,,{TIN},{NPI},S33.5XXA,Medicare",
    # no data_source: a source of its own, still a third claim C1
    f"C1,1,,pc,2024-03-07,97161,,{TIN},{NPI},{BACK},Medicare",
]
# practice_a corrects its line 1 (another evaluation code, no modifier); practice_b's line 1 stays as it was
CORRECTION = [f"C1,1,practice_a,pa,2024-03-05,97162,,{TIN},{NPI},{BACK},Medicare"]
SCORES = [("pa", "2024-03-05", "FOTO-LUMBAR-FS", "40"), ("pa", "2024-03-05", "FOTO-LUMBAR-FS-PRED", "10"),
          ("pa", "2024-04-20", "FOTO-LUMBAR-FS", "55"),
          ("pb", "2024-03-06", "FOTO-LUMBAR-FS", "40"), ("pb", "2024-03-06", "FOTO-LUMBAR-FS-PRED", "10"),
          ("pb", "2024-04-21", "FOTO-LUMBAR-FS", "45")]
MODELS = ("+measure_cases +code_overview +code_catalog +code_modifiers +code_related_diagnoses "
          "+code_related_procedures")
# the tables compared between the incremental and the full build, lineage load times aside
COMPARED = {
    "staging.base_medical_claim": "* exclude (_loaded_at)",
    "staging.base_claim_diagnosis": "* exclude (_loaded_at)",
    "staging.base_claim_modifier": "* exclude (_loaded_at)",
    "staging.stg_medical_claim": "*",
    "intermediate.int_reporting__code_lines": "* exclude (_loaded_at)",
    "intermediate.int_rehab__visit_lines": "* exclude (_loaded_at)",
    "marts.measure_cases": "*",
    "reporting.code_overview": "*",
    "reporting.code_catalog": "*",
    "reporting.code_modifiers": "*",
    "reporting.code_related_diagnoses": "*",
    "reporting.code_related_procedures": "*",
}


def _warehouse(root: Path) -> DbtWarehouse:
    root.mkdir()
    warehouse = DbtWarehouse(root)
    with duckdb.connect(str(warehouse.path)) as con:
        write_code_labels(con, None)
        for person in ("pa", "pb", "pc"):
            con.execute("insert into raw.eligibility (person_id, birth_date, gender, enrollment_start_date, payer, "
                        "_delivery, _line_number) values (?, '1970-05-01', 'female', '2015-01-01', 'Medicare', "
                        "'2024-03', 1)", [person])
        for person, day, code, value in SCORES:
            con.execute("insert into raw.observation (person_id, observation_date, source_code, result, _delivery, "
                        "_line_number) values (?, ?, ?, ?, '2024-03', 1)", [person, day, code, value])
    warehouse.dbt("seed")
    return warehouse


def _deliver(warehouse: DbtWarehouse, landing: Path, delivery: str, rows: list[str]) -> None:
    path = landing / "medical_claim" / f"{delivery}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    with duckdb.connect(str(warehouse.path)) as con:
        report = load_delivery(con, "medical_claim", delivery, [path], landing)
    assert (report.read, report.loaded, report.quarantined) == (len(rows), len(rows), 0), report.by_rule


def _build(warehouse: DbtWarehouse) -> None:
    warehouse.dbt("run", "--select", *MODELS.split(), "--vars", json.dumps({"as_of_date": AS_OF}))


def test_two_sources_numbering_claims_alike_stay_apart_and_incremental_equals_full(tmp_path):
    landing = tmp_path / "landing"
    incremental = _warehouse(tmp_path / "incremental")
    _deliver(incremental, landing, "2024-05", FIRST)
    _build(incremental)

    # both sources' lines load and count: lines, claims and persons per code
    assert incremental.query("select count(*) from staging.base_medical_claim") == [(6,)]
    assert incremental.query("select count(distinct claim_key) from staging.base_medical_claim") == [(3,)]
    overview = incremental.query("select code, claim_lines, claims, persons from reporting.code_overview "
                                 "where period_type = 'year' order by code")
    assert overview == [("97110", 1, 1, 1), ("97161", 3, 3, 3), ("M1012", 2, 2, 2)]
    # "the same claim" is one source's claim: 97110 is on practice_b's claim C1 only, with its diagnosis
    related = incremental.query("select code, related_code, claims from reporting.code_related_procedures "
                               "where period_type = 'year' order by all")
    assert related == [("97110", "97161", 1), ("97110", "M1012", 1), ("97161", "97110", 1), ("97161", "M1012", 2),
                       ("M1012", "97110", 1), ("M1012", "97161", 2)]
    diagnoses = incremental.query("select code, diagnosis_code, claims from reporting.code_related_diagnoses "
                                  "where period_type = 'year' and code = '97161' order by all")
    assert diagnoses == [("97161", "M5450", 3), ("97161", "S335XXA", 1)]
    assert incremental.query("select code, modifier, claim_lines, claims from reporting.code_modifiers "
                             "where period_type = 'year'") == [("97161", "GP", 1, 1)]
    # each source's patient makes a case (measure 220, functional status): pa's change meets its prediction, pb's
    # does not; pc (no data_source) has no discharge score
    cases = incremental.query("select person_id, status from marts.measure_cases where measure_id = '220' "
                              "order by person_id")
    assert cases == [("pa", "met"), ("pb", "not_met"), ("pc", "not_measured")]

    # practice_a corrects its line 1: its own version is replaced, practice_b's line 1 stays
    _deliver(incremental, landing, "2024-06", CORRECTION)
    _build(incremental)
    lines = incremental.query("select data_source, hcpcs_code, _delivery from staging.base_medical_claim "
                              "where claim_id = 'C1' and claim_line_number = 1 order by all")
    assert lines == [("practice_a", "97162", "2024-06"), ("practice_b", "97161", "2024-05"), (None, "97161", "2024-05")]
    assert incremental.query("select code, claim_lines, claims, persons from reporting.code_overview "
                             "where period_type = 'year' and code in ('97161', '97162') order by code") == [
        ("97161", 2, 2, 2), ("97162", 1, 1, 1)]
    assert incremental.query("select count(*) from reporting.code_modifiers") == [(0,)]

    # the same deliveries built once, in full, give the same tables
    full = _warehouse(tmp_path / "full")
    _deliver(full, landing, "2024-05", FIRST)
    _deliver(full, landing, "2024-06", CORRECTION)
    _build(full)
    with duckdb.connect(str(incremental.path)) as con:
        con.execute(f"attach '{full.path}' as full_build (read_only)")
        for table, columns in COMPARED.items():
            a = f"select {columns} from {table}"
            b = f"select {columns} from full_build.{table}"
            rows = con.execute(f"select count(*) from {table}").fetchone()[0]
            missing = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
            extra = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
            assert (missing, extra) == (0, 0), f"{table}: {rows} rows, {missing} missing, {extra} extra"
            # the correction took the only modifier away
            assert rows > 0 or table in ("staging.base_claim_modifier", "reporting.code_modifiers"), table
