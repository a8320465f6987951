"""The loader on small hand-written deliveries: row rules, reconciliation, bad files, re-runs, duplicates."""

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.discovery import delivery_key, discover_deliveries
from orchestration.ingest.loader import load_delivery
from orchestration.ingest.reader import FileContractError

CLAIM_HEADER = ("claim_id,claim_line_number,patient_id,claim_start_date,claim_line_start_date,hcpcs_code,"
                "diagnosis_code_type,diagnosis_code_1,diagnosis_code_2,paid_amount,vendor_note")


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def claims(landing: Path, name: str, *rows: str) -> Path:
    return write(landing / "medical_claim" / name, "\n".join([CLAIM_HEADER, *rows]) + "\n")


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield connection
    connection.close()


def quarantine(con, table="medical_claim"):
    return con.execute(f"SELECT _line_number, rule, reason FROM raw.{table}__quarantine ORDER BY 1").fetchall()


def table_hash(con, table):
    return con.execute(
        f"SELECT md5(string_agg(CAST(t AS VARCHAR), '|' ORDER BY _source_file, _line_number)) "
        f"FROM (SELECT * EXCLUDE (_loaded_at) FROM {table}) AS t"
    ).fetchone()[0]


def warnings(con, table="medical_claim"):
    return con.execute(f"SELECT _line_number, rule, column_name, reason FROM raw.{table}__warnings "
                       "ORDER BY 1, 2").fetchall()


def test_every_row_is_loaded_or_quarantined_under_its_rule(con, tmp_path):
    landing = tmp_path / "landing"
    path = claims(
        landing, "2024-03.csv",
        "C1,1,P1,2024-03-01,2024-03-01 00:00:00,63030,icd-10-cm,M51.16,M5416,10.50,x",
        "C1,1,P1,2024-03-01,2024-03-01 00:00:00,63030,icd-10-cm,M51.16,M5416,10.50,x",
        "C2,1,P2,2024-02-30,,63030,,M51.16,,,x",
        "C3,1,P3,2024-03-02,,6303,,M51.16,,,x",
        "C4,one,P4,2024-03-02,,63030,,M51.16,,,x",
        "C5,1,,2024-03-02,,63030,,M51.16,,,x",
        "C6,1,P6,2024-03-02,,63030,,51.16,,,x",
        "C7,1,P7",
        "C8,1,P8,2024-03-02,,g2136,icd-9-cm,7242,,,x",
        "C9,1,P9,03/02/2024,,63030,,M51.16,,,x",
    )
    report = load_delivery(con, "medical_claim", "2024-03", [path], landing)

    assert (report.read, report.loaded, report.quarantined) == (10, 4, 6)
    assert report.by_rule == {"bad_date": 2, "bad_number": 1, "duplicate_line": 1, "missing_key": 1,
                              "too_few_columns": 1}
    assert report.warned_by_rule == {"unknown_code_format": 2}
    assert [(line, rule) for line, rule, _ in quarantine(con)] == [
        (3, "duplicate_line"), (4, "bad_date"), (6, "bad_number"), (7, "missing_key"), (9, "too_few_columns"),
        (11, "bad_date")]
    reasons = dict((line, reason) for line, _, reason in quarantine(con))
    assert "claim_start_date '2024-02-30'" in reasons[4]
    # a malformed code is a warning: the line loads (its diagnoses, its date) with the code NULL, and says why
    assert [(line, rule, column) for line, rule, column, _ in warnings(con)] == [
        (5, "unknown_code_format", "hcpcs_code"), (8, "unknown_code_format", "diagnosis_code_1")]
    assert "diagnosis_code_1 '51.16'" in warnings(con)[1][3]
    loaded = con.execute("SELECT claim_id, claim_line_start_date::VARCHAR, paid_amount::VARCHAR, hcpcs_code, "
                         "diagnosis_code_1, diagnosis_code_2, person_id, _line_number, _delivery, _source_file "
                         "FROM raw.medical_claim ORDER BY 1").fetchall()
    assert loaded == [
        ("C1", "2024-03-01", "10.50", "63030", "M51.16", "M5416", "P1", 2, "2024-03", "medical_claim/2024-03.csv"),
        ("C3", None, None, None, "M51.16", None, "P3", 5, "2024-03", "medical_claim/2024-03.csv"),
        ("C6", None, None, "63030", None, None, "P6", 8, "2024-03", "medical_claim/2024-03.csv"),
        ("C8", None, None, "g2136", "7242", None, "P8", 10, "2024-03", "medical_claim/2024-03.csv")]
    assert report.files[0].extra_columns == ["vendor_note"]
    ledger = con.execute("SELECT rows_read, rows_loaded, rows_quarantined, status FROM raw._deliveries").fetchall()
    assert ledger == [(10, 4, 6, "loaded")]


def test_severity_per_column_quarantines_only_unusable_lines(con, tmp_path):
    """Tuva's input layer: keys and the service date are errors; a missing code or diagnosis is a warning."""
    path = claims(
        tmp_path, "2024-03.csv",
        "C1,1,P1,2024-03-01,,,,M51.16,,,x",               # no HCPCS: loaded, its diagnoses count
        "C2,1,P2,2024-03-01,,97110,,,,,x",                # no diagnosis: loaded, counts for its code
        "C3,1,P3,2024-03-01,,,,,,,x",                     # neither: loaded, two warnings
        "C4,1,P4,,2024-03-05,97110,,M51.16,,,x",          # claim date empty, line date given: fine
        "C5,1,P5,,,97110,,M51.16,,,x",                    # no service date at all: unusable
        "C6,1,P6,2024-03-01,2024-13-01,97110,,M51.16,,,x",  # a line date that is not a date: unusable
        "C7,1,P7,01/03/2024,2024-03-02,97110,,M51.16,,,x",  # a bad claim date beside a good line date: warning
        "C8,1,P8,2024-03-01,,97110,,M51.16,,1.2.3,x",     # an amount that is not a number: warning, NULL
        ",1,P9,2024-03-01,,97110,,M51.16,,,x",            # no claim id: unusable
    )
    report = load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
    assert (report.read, report.loaded, report.quarantined) == (9, 6, 3)
    assert report.by_rule == {"bad_date": 1, "missing_key": 2}
    assert report.warned_by_rule == {"bad_date": 1, "bad_number": 1, "missing_diagnosis_code_1": 2,
                                     "missing_hcpcs_code": 2}
    assert [(line, rule) for line, rule, _ in quarantine(con)] == [(6, "missing_key"), (7, "bad_date"),
                                                                    (10, "missing_key")]
    assert "claim_start_date is empty and so is claim_line_start_date" in quarantine(con)[0][2]
    assert con.execute("SELECT claim_id, claim_start_date::VARCHAR, claim_line_start_date::VARCHAR, paid_amount "
                       "FROM raw.medical_claim WHERE claim_id IN ('C4', 'C7', 'C8') ORDER BY 1").fetchall() == [
        ("C4", None, "2024-03-05", None), ("C7", None, "2024-03-02", None), ("C8", "2024-03-01", None, None)]
    assert [(line, rule) for line, rule, _, _ in warnings(con)] == [
        (2, "missing_hcpcs_code"), (3, "missing_diagnosis_code_1"), (4, "missing_diagnosis_code_1"),
        (4, "missing_hcpcs_code"), (8, "bad_date"), (9, "bad_number")]


def test_instrument_scores_are_checked_against_the_seed_ranges(con, tmp_path):
    path = write(tmp_path / "observation" / "2024-03.csv", "\n".join([
        "person_id,observation_date,source_code,normalized_code,result",
        "P1,2024-03-01,72514-3,,7.5",
        "P1,2024-03-02,72514-3,,11",
        "P1,2024-03-03,72514-3,,seven",
        "P1,2024-03-04,LOCAL-NOTE,,seven",
        "P1,2024-03-05,whatever,foto-lumbar-fs,101",
        "P1,2024-03-06,FOTO-LUMBAR-FS-PRED,,-12.5",
    ]) + "\n")
    report = load_delivery(con, "observation", "2024-03", [path], tmp_path)
    assert report.by_rule == {"non_numeric_score": 1, "score_out_of_range": 2}
    assert [(line, rule) for line, rule, _ in quarantine(con, "observation")] == [
        (3, "score_out_of_range"), (4, "non_numeric_score"), (6, "score_out_of_range")]
    assert report.loaded == 3


def test_observation_code_from_either_column_and_an_empty_result_is_a_warning(con, tmp_path):
    path = write(tmp_path / "observation" / "2024-03.csv", "\n".join([
        "person_id,observation_date,source_code,normalized_code,result",
        "P1,2024-03-01,,72514-3,7",          # the normalized code alone is enough
        "P1,2024-03-02,,,7",                 # no code at all: says nothing
        "P1,2024-03-03,8302-2,,",            # no result: loaded, counted
        ",2024-03-04,72514-3,,7",            # nobody's score
        "P1,2024-3-5,72514-3,,7",            # undated score
    ]) + "\n")
    report = load_delivery(con, "observation", "2024-03", [path], tmp_path)
    assert (report.loaded, report.by_rule, report.warned_by_rule) == (
        2, {"bad_date": 1, "missing_key": 2}, {"missing_result": 1})


def test_rows_after_a_rejected_line_keep_their_own_line_numbers(con, tmp_path):
    path = claims(tmp_path, "2024-03.csv",
                  "C1,1,P1,2024-03-01,,63030,,M51.16,,,x",
                  "C2,1,P2,2024-03-01,,63030,,M51.16,,,x,too,many",
                  "C3,1,P3,2024-03-01,,63030,,M51.16,,,x",
                  "C4,1,P4",
                  "C5,1,P5,2024-03-01,,63030,,M51.16,,,x")
    load_delivery(con, "medical_claim", "d", [path], tmp_path)
    assert con.execute("SELECT claim_id, _line_number FROM raw.medical_claim ORDER BY 1").fetchall() == [
        ("C1", 2), ("C3", 4), ("C5", 6)]
    assert [(line, rule) for line, rule, _ in quarantine(con)] == [(3, "too_many_columns"), (5, "too_few_columns")]


def test_missing_required_column_fails_naming_file_column_and_contract(con, tmp_path):
    path = write(tmp_path / "medical_claim" / "2024-03.csv", "claim_id,claim_line_number\nC1,1\n")
    with pytest.raises(FileContractError) as err:
        load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
    message = str(err.value)
    assert "2024-03.csv" in message and "person_id" in message and "docs/data_contract.md" in message


@pytest.mark.parametrize("delimiter,label", [(";", "semicolon"), ("\t", "tab")])
def test_wrong_delimiter_fails_with_the_reason(con, tmp_path, delimiter, label):
    text = CLAIM_HEADER.replace(",", delimiter) + "\n" + delimiter.join("C1 1 P1 2024-03-01".split()) + "\n"
    path = write(tmp_path / "medical_claim" / "x.csv", text)
    with pytest.raises(FileContractError, match=f"{label}-delimited"):
        load_delivery(con, "medical_claim", "x", [path], tmp_path)


def test_empty_file_is_skipped_and_header_only_file_loads_nothing(con, tmp_path):
    empty = write(tmp_path / "medical_claim" / "2024-03-a.csv", b"")
    header_only = write(tmp_path / "medical_claim" / "2024-03-b.csv", CLAIM_HEADER + "\n")
    report = load_delivery(con, "medical_claim", "2024-03", [empty, header_only], tmp_path)
    statuses = {f.file: (f.status, f.read, f.detail) for f in report.files}
    assert statuses["medical_claim/2024-03-a.csv"][0] == "skipped_empty_file"
    assert statuses["medical_claim/2024-03-b.csv"] == ("loaded", 0, "header only: no data rows")
    assert con.execute("SELECT count(*) FROM raw.medical_claim").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM raw.eligibility").fetchone()[0] == 0  # every raw table exists


def test_non_utf8_row_is_quarantined_and_non_utf8_header_fails(con, tmp_path):
    """In a UTF-8 file (it holds UTF-8 characters: ü); a file without any is read as Windows-1252 when it is that
    (tests/test_real_vendor_files_2.py). 0x81 is no Windows-1252 character either."""
    row = "C\xe91,1,P1,2024-03-01,,63030,,M51.16,,,x".encode("latin-1")
    good = "C2,1,P2,2024-03-01,,63030,,M51.16,,,Müller".encode()
    path = write(tmp_path / "medical_claim" / "latin.csv", CLAIM_HEADER.encode() + b"\n" + row + b"\n" + good + b"\n")
    report = load_delivery(con, "medical_claim", "latin", [path], tmp_path)
    assert report.by_rule == {"invalid_utf8": 1} and report.loaded == 1
    bad_header = write(tmp_path / "medical_claim" / "h.csv", b"claim_id,\x81\n1,2\n")
    with pytest.raises(FileContractError, match="neither UTF-8 nor Windows-1252"):
        load_delivery(con, "medical_claim", "h", [bad_header], tmp_path)


def test_truncated_last_line_is_quarantined(con, tmp_path):
    text = CLAIM_HEADER + "\nC1,1,P1,2024-03-01,,63030,,M51.16,,,x\nC2,1,P2,2024-03-01,,630"
    path = write(tmp_path / "medical_claim" / "t.csv", text)
    report = load_delivery(con, "medical_claim", "t", [path], tmp_path)
    assert (report.read, report.loaded, report.by_rule) == (2, 1, {"too_few_columns": 1})
    quoted = write(tmp_path / "medical_claim" / "q.csv", CLAIM_HEADER + '\nC1,1,P1,2024-03-01,,63030,,"M51.16')
    report = load_delivery(con, "medical_claim", "q", [quoted], tmp_path)
    assert report.loaded == 0 and report.quarantined == 1 and report.read == 1


def test_rerun_replaces_the_delivery_with_identical_content(con, tmp_path):
    path = claims(tmp_path, "2024-03.csv", "C1,1,P1,2024-03-01,,63030,,M51.16,,,x", "C2,1,P2,bad,,63030,,M51.16,,,x")
    first = load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
    hashes = (table_hash(con, "raw.medical_claim"), table_hash(con, "raw.medical_claim__quarantine"))
    second = load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
    assert (first.read, first.loaded, first.quarantined) == (second.read, second.loaded, second.quarantined) == (2, 1, 1)
    assert (table_hash(con, "raw.medical_claim"), table_hash(con, "raw.medical_claim__quarantine")) == hashes
    assert con.execute("SELECT count(*) FROM raw._deliveries").fetchone()[0] == 1


def test_same_file_delivered_twice_is_skipped(con, tmp_path):
    original = claims(tmp_path, "2024-03.csv", "C1,1,P1,2024-03-01,,63030,,M51.16,,,x")
    copy = tmp_path / "medical_claim" / "resend_2024-04.csv"
    shutil.copy(original, copy)
    load_delivery(con, "medical_claim", "2024-03", [original], tmp_path)
    report = load_delivery(con, "medical_claim", "2024-04", [copy], tmp_path)
    assert report.files[0].status == "skipped_duplicate_file"
    assert "2024-03: medical_claim/2024-03.csv" in report.files[0].detail
    assert con.execute("SELECT count(*) FROM raw.medical_claim").fetchone()[0] == 1
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    assert con.execute("SELECT status FROM raw._deliveries WHERE file_hash = ? ORDER BY delivery",
                       [digest]).fetchall() == [("loaded",), ("skipped_duplicate_file",)]
    rerun = load_delivery(con, "medical_claim", "2024-03", [original], tmp_path)
    assert rerun.loaded == 1


def test_parquet_delivery_with_typed_columns(con, tmp_path):
    path = tmp_path / "eligibility" / "2024-03.parquet"
    path.parent.mkdir(parents=True)
    con.execute(f"""COPY (SELECT 'P1' AS patient_id, DATE '1950-01-02' AS birth_date, 'female' AS gender,
                   TIMESTAMP '2024-01-01 00:00:00' AS enrollment_start_date, 'medicare' AS payer_type
                   UNION ALL SELECT 'P2', NULL, 'male', NULL, NULL) TO '{path}' (FORMAT parquet)""")
    report = load_delivery(con, "eligibility", "2024-03", [path], tmp_path)
    # a span without a birth date still gives the person's payer: loaded, and the gap is counted
    assert (report.loaded, report.by_rule, report.warned_by_rule) == (2, {}, {"missing_birth_date": 1})
    assert con.execute("SELECT person_id, birth_date::VARCHAR, enrollment_start_date::VARCHAR, _line_number "
                       "FROM raw.eligibility ORDER BY 1").fetchall() == [("P1", "1950-01-02", "2024-01-01", 1),
                                                                         ("P2", None, None, 2)]


def test_discovery_reads_folder_and_flat_layouts(tmp_path):
    write(tmp_path / "medical_claim" / "claims_2024-03.csv", "x")
    write(tmp_path / "observation" / "202404.parquet", "x")
    write(tmp_path / "eligibility.csv", "x")
    write(tmp_path / "provider_2024_05.csv", "x")
    write(tmp_path / "notes.txt", "x")
    found = discover_deliveries(tmp_path)
    assert {k: sorted(v) for k, v in found.items()} == {
        "2024-03": ["medical_claim"], "2024-04": ["observation"], "0000-eligibility": ["eligibility"],
        "2024-05": ["provider"]}
    assert delivery_key(Path("claims_20240315.csv")) == "2024-03"
