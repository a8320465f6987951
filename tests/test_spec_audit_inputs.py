"""Session 8 conformance audit, input layer: real third-party files carry values a second implementer of the spec
would read one way and the loader another. Each test pins the project's reading (docs/data_contract.md,
docs/measures_review.md "Session 8 review").

- Identifiers with surrounding blanks (`' 123'`) are the same person / claim / observation as `'123'`: a CSV's
  padding is no part of an identifier. Case is kept (identifiers are opaque: `abc` and `ABC` stay two).
- A blank observation_id is no id: several rows with a blank id are several observations, not versions of one.
- An instrument score is recognised by the same code resolution and the same number parsing as staging
  (stg_observation): normalized_code, else source_code; LOINC with or without its check-digit hyphen; a number
  with a unit word. So a score outside its range never reaches the measures whichever way its code is written.
- A score with more decimals than the 3 the warehouse keeps is quarantined, not rounded (3.0004 rounded to 3.000
  would meet "post-op <= 3.0").
- A claim line number 0 or negative is a line number (Tuva's input layer only requires it not null).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import load_delivery


def _load(tmp_path: Path, table: str, header: str, rows: list[str], con=None, delivery: str = "2024-03"):
    con = con or duckdb.connect()
    path = tmp_path / delivery / table / f"{delivery}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    report = load_delivery(con, table, delivery, [path], tmp_path / delivery)
    assert report.read == report.loaded + report.quarantined
    return con, report


def _quarantined(con, table: str) -> list[tuple]:
    return con.execute(f"select _line_number, rule, reason from raw.{table}__quarantine order by 1").fetchall()


OBSERVATION = "observation_id,person_id,observation_date,source_code,normalized_code,result"


def test_identifiers_are_loaded_without_surrounding_blanks_and_with_their_case(tmp_path):
    con, report = _load(tmp_path, "medical_claim",
                        "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,"
                        "rendering_npi,rendering_tin",
                        [" C1 ,1, 123 ,2024-03-01,63030,M51.16, 1234567893 ,123456789",
                         "c1,1,abc,2024-03-01,63030,M51.16,,"])
    assert (report.loaded, report.quarantined) == (2, 0)
    assert con.execute("select claim_id, person_id, rendering_npi from raw.medical_claim order by all").fetchall() == [
        ("C1", "123", "1234567893"), ("c1", "abc", None)]
    _load(tmp_path, "eligibility", "person_id,birth_date,gender", ["123 ,1960-01-01,female"], con)
    _load(tmp_path, "observation", OBSERVATION, [" O1 ,  123,2024-03-01,72514-3,,7"], con)
    # the claim, the enrollment and the score of person 123 join
    assert con.execute("""
        select count(*) from raw.medical_claim c
        join raw.eligibility e on c.person_id = e.person_id
        join raw.observation o on o.person_id = c.person_id""").fetchone() == (1,)
    assert con.execute("select observation_id from raw.observation").fetchall() == [("O1",)]


def test_a_blank_observation_id_is_no_id(tmp_path):
    con, report = _load(tmp_path, "observation", OBSERVATION, [
        "   ,P1,2024-03-01,72514-3,,7",
        "   ,P1,2024-06-01,72514-3,,2",
    ])
    assert (report.loaded, report.quarantined) == (2, 0)
    assert con.execute("select observation_id, result from raw.observation order by result").fetchall() == [
        (None, "2"), (None, "7")]


def test_scores_are_checked_whichever_way_the_instrument_code_is_written(tmp_path):
    con, report = _load(tmp_path, "observation", OBSERVATION, [
        "O1,P1,2024-03-01,725143,,11",             # LOINC without its hyphen: still the 0-10 back pain scale
        "O2,P1,2024-03-02,72514,,12",              # the LOINC number alone
        "O3,P1,2024-03-03,72514-3,SNOMED-1,13",    # a normalized code no instrument has: the source code decides
        "O4,P1,2024-03-04, 72514-3 ,,seven",
        "O5,P1,2024-03-05,72514-3,,7 points",      # a number with a unit word is a score (stg_observation parses it)
        "O6,P1,2024-03-06,72514-3,,45%",           # ... and so is 45%, outside 0-10
        "O7,P1,2024-03-07,8302-2,,183.1234",        # not an instrument: anything goes
    ])
    assert [(line, rule) for line, rule, _ in _quarantined(con, "observation")] == [
        (2, "score_out_of_range"), (3, "score_out_of_range"), (4, "score_out_of_range"),
        (5, "non_numeric_score"), (7, "score_out_of_range")]
    assert con.execute("select observation_id from raw.observation order by 1").fetchall() == [("O5",), ("O7",)]
    assert report.by_rule == {"score_out_of_range": 4, "non_numeric_score": 1}


def test_a_score_with_more_decimals_than_kept_is_quarantined_not_rounded(tmp_path):
    con, report = _load(tmp_path, "observation", OBSERVATION, [
        "O1,P1,2024-03-01,72514-3,,3.0004",
        "O2,P1,2024-03-02,72514-3,,3.0000",        # trailing zeros: the same number, exactly
        "O3,P1,2024-03-03,72514-3,,8.2",
        "O4,P1,2024-03-04,FOTO-LUMBAR-FS,,55.12345 points",
    ])
    assert [(line, rule) for line, rule, _ in _quarantined(con, "observation")] == [
        (2, "score_precision"), (5, "score_precision")]
    assert _quarantined(con, "observation")[0][2] == (
        "result '3.0004' has more decimals than the 3 a back_pain score keeps: it would be rounded")
    assert report.loaded == 2


@pytest.mark.parametrize("line_number", ["0", "-1"])
def test_a_claim_line_number_zero_or_negative_is_a_line_number(tmp_path, line_number):
    con, report = _load(tmp_path, "medical_claim", "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1",
                        [f"C1,{line_number},P1,2024-03-01,63030,M51.16", "C1,1,P1,2024-03-01,63030,M51.16"])
    assert (report.loaded, report.quarantined, report.warned_by_rule.get("bad_number")) == (2, 0, None)
    assert con.execute("select claim_line_number from raw.medical_claim order by 1").fetchall() == [
        (int(line_number),), (1,)]


def test_a_date_with_a_time_and_an_offset_is_the_date_as_written_in_csv(tmp_path):
    """A score at 23:30 New York time is dated that day (the source's local date), not the next UTC day: a window
    edge (day +140) must not move with the time of day."""
    con, report = _load(tmp_path, "observation", OBSERVATION, [
        "O1,P1,2024-03-01T23:30:00-05:00,72514-3,,7",
        "O2,P1,2024-03-01T02:00:00Z,72514-3,,7",
        "O3,P1,2024-03-01 23:59:59,72514-3,,7",
    ])
    assert report.loaded == 3
    assert con.execute("select distinct observation_date::varchar from raw.observation").fetchall() == [("2024-03-01",)]


@pytest.mark.parametrize("machine_time_zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_a_parquet_timestamp_with_time_zone_gives_the_same_date_on_every_machine(tmp_path, machine_time_zone):
    """Parquet stores a zoned timestamp as an instant; DuckDB renders it as text in the session's TimeZone, so the
    date depended on the machine the pipeline ran on. It is read as its UTC date-time whatever the machine."""
    path = tmp_path / "2024-03" / "observation" / "2024-03.parquet"
    path.parent.mkdir(parents=True)
    with duckdb.connect() as writer:
        writer.execute(f"""copy (select 'O1' as observation_id, 'P1' as person_id,
                                        timestamptz '2024-03-01 23:30:00-05:00' as observation_date,
                                        '72514-3' as source_code, '7' as result) to '{path}'""")
    con = duckdb.connect()
    con.execute(f"set TimeZone = '{machine_time_zone}'")
    report = load_delivery(con, "observation", "2024-03", [path], tmp_path / "2024-03")
    assert report.loaded == 1
    assert con.execute("select observation_date::varchar from raw.observation").fetchall() == [("2024-03-02",)]


def test_a_line_repeated_with_its_identifiers_padded_is_a_duplicate_not_a_second_version(tmp_path):
    """Identifiers compare without their padding everywhere: as keys, and when an exact copy is recognised."""
    con, report = _load(tmp_path, "medical_claim",
                        "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1",
                        ["C1,1,P1,2024-03-01,63030,M51.16", " C1 ,1,P1 ,2024-03-01,63030,M51.16"])
    assert (report.loaded, report.by_rule) == (1, {"duplicate_line": 1})
