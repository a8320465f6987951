"""Strict keys and values (issue 14, defect 6): no silent coercion of integers, no silent choice between two
versions of a claim line within one delivery, no control character loaded. Rows read = loaded + quarantined."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import load_delivery

HEADER = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,paid_amount"


def _load(tmp_path: Path, files: dict[str, list[str]], delivery: str = "2024-03", con=None):
    con = con or duckdb.connect()
    paths = []
    for name, rows in files.items():
        path = tmp_path / "medical_claim" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([HEADER, *rows]) + "\n")
        paths.append(path)
    report = load_delivery(con, "medical_claim", delivery, paths, tmp_path)
    assert report.read == report.loaded + report.quarantined
    return con, report


def _quarantine(con) -> list[tuple]:
    return con.execute("select _line_number, rule, reason from raw.medical_claim__quarantine order by all").fetchall()


def test_a_line_number_that_is_not_a_whole_number_is_quarantined_not_rounded(tmp_path):
    """Defect: "1.5" loaded as line 2, and "1.4" would have landed on line 1, replacing it."""
    con, report = _load(tmp_path, {"2024-03.csv": [
        "C1,1,P1,2024-03-01,63030,M51.16,100.00",
        "C1,1.4,P1,2024-03-01,G2136,M51.16,0.00",
        "C1,1.5,P1,2024-03-01,G2136,M51.16,0.00",
        "C2,1e3,P2,2024-03-01,63030,M51.16,1.00",
        "C3,2.0,P3,2024-03-01,63030,M51.16,1.00",
        "C4, 7 ,P4,2024-03-01,63030,M51.16,1.00",
    ]})
    assert (report.read, report.loaded, report.by_rule) == (6, 3, {"bad_number": 3})
    assert con.execute("select claim_id, claim_line_number, hcpcs_code from raw.medical_claim order by all").fetchall() == [
        ("C1", 1, "63030"), ("C3", 2, "63030"), ("C4", 7, "63030")]
    assert [r[2] for r in _quarantine(con)] == [
        "claim_line_number '1.4' is not a whole number fitting INTEGER",
        "claim_line_number '1.5' is not a whole number fitting INTEGER",
        "claim_line_number '1e3' is not a whole number fitting INTEGER"]


def test_two_versions_of_a_claim_line_in_one_delivery_are_quarantined_with_the_count(tmp_path):
    """Defect: the same claim key twice in one delivery with different values kept one without a warning."""
    con, report = _load(tmp_path, {
        "2024-03.csv": ["C1,1,P1,2024-03-01,63030,M51.16,100.00",
                        "C1,1,P1,2024-03-01,63030,M51.16,250.00",
                        "C2,1,P2,2024-03-01,63030,M51.16,5.00",
                        "C2,1,P2,2024-03-01,63030,M51.16,5.00",   # an exact copy is a duplicate line, not a version
                        "C3,1,P3,2024-03-01,63030,M51.16,5.00",
                        "C3,1,P3,2024-02-30,63030,M51.16,9.00"],  # a bad row is no second version
        "2024-03-fix.csv": ["C4,1,P4,2024-03-01,63030,M51.16,1.00"],
        "2024-03-late.csv": ["C4,01,P4,2024-03-01,63030,M51.16,2.00"],  # across files of the delivery, key as typed
    })
    assert report.by_rule == {"bad_date": 1, "conflicting_versions": 4, "duplicate_line": 1}
    assert con.execute("select claim_id, paid_amount::varchar from raw.medical_claim order by all").fetchall() == [
        ("C2", "5.00"), ("C3", "5.00")]
    conflicts = [r for r in _quarantine(con) if r[1] == "conflicting_versions"]
    assert conflicts[0][2] == ("claim_id + claim_line_number + data_source (C1, 1, NULL) is delivered 2 times with "
                               "different values in this delivery: no version is loaded")
    assert {r[2].split(")")[0] for r in conflicts} == {"claim_id + claim_line_number + data_source (C1, 1, NULL",
                                                      "claim_id + claim_line_number + data_source (C4, 1, NULL"}
    # A version with only a warn-level gap (a malformed HCPCS loads as NULL) is still a version.
    _, warned = _load(tmp_path / "warned", {"2024-05.csv": ["C5,1,P5,2024-03-01,6303,M51.16,1.00",
                                                           "C5,1,P5,2024-03-01,63030,M51.16,2.00"]}, "2024-05", con)
    assert (warned.loaded, warned.by_rule, warned.warned_by_rule) == (0, {"conflicting_versions": 2}, {})
    # A later delivery is a correction, not a conflict: its version loads.
    _, later = _load(tmp_path / "later", {"2024-04.csv": ["C1,1,P1,2024-03-01,63030,M51.16,300.00"]}, "2024-04", con)
    assert (later.loaded, later.quarantined) == (1, 0)


def test_two_sources_numbering_claims_alike_are_two_lines_not_two_versions(tmp_path):
    """Defect (session 10): the key left out Tuva's data_source, so two practices' billing systems that both number
    their claims from 1 had their lines quarantined as conflicting versions of each other. A line is claim_id +
    claim_line_number + data_source; an empty data_source is one source of its own (NULL, null-safe), so two
    different lines without a source in one delivery are still two versions."""
    header = HEADER + ",data_source"
    path = tmp_path / "medical_claim" / "2024-03.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([header,
                               "C1,1,P1,2024-03-01,63030,M51.16,100.00,practice_a",
                               "C1,1,P9,2024-03-01,97161,M54.50,40.00,practice_b",
                               "C2,1,P2,2024-03-01,63030,M51.16,5.00,",
                               "C2,1,P2,2024-03-01,63030,M51.16,6.00,",
                               "C3,1,P3,2024-03-01,63030,M51.16,7.00,practice_a",
                               "C3,1,P3,2024-03-01,63030,M51.16,8.00,practice_a"]) + "\n")
    con = duckdb.connect()
    report = load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
    assert (report.read, report.loaded, report.by_rule) == (6, 2, {"conflicting_versions": 4})
    assert con.execute("select claim_id, person_id, data_source from raw.medical_claim order by all").fetchall() == [
        ("C1", "P1", "practice_a"), ("C1", "P9", "practice_b")]
    assert {r[2].split(")")[0] for r in _quarantine(con)} == {
        "claim_id + claim_line_number + data_source (C2, 1, NULL",
        "claim_id + claim_line_number + data_source (C3, 1, practice_a"}


def test_control_characters_are_quarantined_and_tabs_and_line_breaks_kept(tmp_path):
    """Defect: a NUL byte in a value was kept."""
    con, report = _load(tmp_path, {"2024-03.csv": [
        "C1,1,P\x001,2024-03-01,63030,M51.16,1.00",
        "C2,1,P2,2024-03-01,63030,M51.16\x1b,1.00",
        'C3,1,"P3\tx",2024-03-01,63030,M51.16,1.00',
        'C4,1,"P4\nsecond line",2024-03-01,63030,M51.16,1.00',
    ]})
    assert (report.loaded, report.by_rule) == (2, {"control_character": 2})
    assert [r[2] for r in _quarantine(con)] == [
        "control character (NUL or another non-printing byte) in person_id",
        "control character (NUL or another non-printing byte) in diagnosis_code_1; "
        "diagnosis_code_1 'M51.16\x1b' does not have the ICD-10-CM shape"]
    assert "\x00" not in "".join(r[0] for r in con.execute("select person_id from raw.medical_claim").fetchall())


@pytest.mark.parametrize("value", ["2147483648", "-0.5", "1,000", "one"])
def test_other_non_integers_are_quarantined(tmp_path, value):
    _, report = _load(tmp_path, {"2024-03.csv": [f'C1,"{value}",P1,2024-03-01,63030,M51.16,1.00']})
    assert report.by_rule == {"bad_number": 1}
