"""The Tuva sample (real third-party claims, /work/shared/data/tuva_sample) loads exactly, and so do the shapes real
vendors give the same rows: another encoding of the CSV, compressed, written by a database, or Parquet written by
pandas, Spark or DuckDB with whatever types they chose. Each variant must load the very rows the plain sample loads
(rows read = loaded + quarantined, every value as written), or fail or be reported as docs/data_contract.md says.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from orchestration.contract import CONTRACTS
from orchestration.ingest.discovery import scan_landing
from orchestration.ingest.loader import load_delivery
from orchestration.ingest.reader import FileContractError

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tuva_sample"  # as tests/test_real_users.py finds it
SAMPLE = SAMPLE if SAMPLE.is_dir() else Path("/work/shared/data/tuva_sample")
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="the Tuva sample is not on this machine")

CLAIM_DATES = ("claim_start_date", "claim_end_date", "claim_line_start_date", "claim_line_end_date")


def _rows(table: str) -> tuple[list[str], list[list[str]]]:
    header, *body = csv.reader(io.StringIO((SAMPLE / f"{table}.csv").read_text(encoding="utf-8"), newline=""))
    return header, body


def _csv(header: list[str], body: list[list[str]], line_end: str = "\n", quoting: int = csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_end, quoting=quoting)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def _load(path: Path, table: str = "medical_claim"):
    """(read, loaded, quarantined, quarantined by rule) and every loaded row's contract columns, sorted."""
    with duckdb.connect() as con:
        report = load_delivery(con, table, "2024-03", [path], path.parent)
        rows = con.execute(f"select {', '.join(CONTRACTS[table].names)} from raw.{table} order by all").fetchall()
    return (report.read, report.loaded, report.quarantined, report.by_rule), rows


@pytest.fixture(scope="module")
def sample_claims():
    return _load(SAMPLE / "medical_claim.csv")


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    if isinstance(content, pa.Table):
        pq.write_table(content, path, row_group_size=500)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("table", ["medical_claim", "eligibility", "observation"])
def test_the_tuva_sample_loads_every_row_with_its_values_as_written(table):
    header, body = _rows(table)
    contract = CONTRACTS[table]
    with duckdb.connect() as con:
        report = load_delivery(con, table, "0000-sample", [SAMPLE / f"{table}.csv"], SAMPLE)
        loaded = con.execute(f"select _line_number, {', '.join(contract.names)} from raw.{table}").fetchall()
    assert (report.read, report.loaded, report.quarantined) == (len(body), len(body), 0)
    position = {name: i for i, name in enumerate(header)}
    for line, *values in loaded:
        delivered = body[line - 2]
        for column, value in zip(contract.columns, values):
            text = delivered[position[column.name]] if column.name in position else ""
            if column.type == "DATE":
                assert (value and value.isoformat()) == (text[:10] or None), (line, column.name)
            elif column.type != "VARCHAR":
                assert value == (Decimal(text) if text else None), (line, column.name)
            else:
                assert value == (text or None), (line, column.name)


def _claims_with(change) -> str:
    header, body = _rows("medical_claim")
    column = {name: i for i, name in enumerate(header)}
    for row in body:
        change(row, column)
    return _csv(header, body)


def _null_literal(literal: str):
    def change(row, _):
        row[:] = [value or literal for value in row]
    return change


def _dates_with(suffix: str):
    def change(row, column):
        for name in CLAIM_DATES:
            if row[column[name]]:
                row[column[name]] += suffix
    return change


def _line_number_as_float(row, column):
    row[column["claim_line_number"]] += ".0"


def _embedded_line_break(row, column):
    row[column["plan"]] = f"{row[column['plan']]}, part b\r\nsecond line" if row[column["plan"]] else ""


def _csv_variants() -> dict[str, tuple[str, object]]:
    header, body = _rows("medical_claim")
    plain = _csv(header, body)
    reordered = list(reversed(range(len(header))))
    return {
        "utf-8 byte-order mark": ("x.csv", "\ufeff" + plain),
        "CRLF line ends": ("x.csv", _csv(header, body, "\r\n")),
        "every value quoted, BOM, CRLF": ("x.csv", "\ufeff" + _csv(header, body, "\r\n", csv.QUOTE_ALL)),
        "header in upper case": ("x.csv", _csv([h.upper() for h in header], body)),
        "blanks around the names": ("x.csv", _csv([f" {h} " for h in header], body)),
        "columns in another order": ("x.csv", _csv([header[i] for i in reordered],
                                                   [[row[i] for i in reordered] for row in body])),
        "gzip": ("x.csv.gz", gzip.compress(plain.encode())),
        "gzip of several members (files appended)": ("x.csv.gz", gzip.compress(plain[:300_000].encode())
                                                     + gzip.compress(plain[300_000:].encode())),
        "gzip, extension in upper case": ("X.CSV.GZ", gzip.compress(plain.encode())),
        "a blank line before the header": ("x.csv", "\n" + plain),
        "blank lines before the header, BOM, CRLF": ("x.csv", "\ufeff\r\n  \r\n" + _csv(header, body, "\r\n")),
        "dates with a midnight time": ("x.csv", _claims_with(_dates_with(" 00:00:00"))),
        "dates with an hours-only offset (PostgreSQL)": ("x.csv", _claims_with(_dates_with(" 00:00:00+00"))),
        "dates with a negative hours-only offset": ("x.csv", _claims_with(_dates_with(" 00:00:00-05"))),
        "dates as BigQuery writes a TIMESTAMP": ("x.csv", _claims_with(_dates_with(" 00:00:00 UTC"))),
        "dates as Snowflake unloads a TIMESTAMP_TZ": ("x.csv", _claims_with(_dates_with(" 00:00:00.000 -0800"))),
        "line numbers written 1.0": ("x.csv", _claims_with(_line_number_as_float)),
        "empty values written NULL (database export)": ("x.csv", _claims_with(_null_literal("NULL"))),
        "empty values written \\N (MySQL, Hive export)": ("x.csv", _claims_with(_null_literal("\\N"))),
    }


@pytest.mark.parametrize("variant", list(_csv_variants()))
def test_a_csv_variant_of_the_sample_loads_the_same_rows(tmp_path, sample_claims, variant):
    name, content = _csv_variants()[variant]
    assert _load(_write(tmp_path, name, content)) == sample_claims


def test_a_value_spanning_lines_is_one_value(tmp_path, sample_claims):
    """Excel writes CRLF between rows and a bare or CRLF line break inside a quoted cell."""
    counts, rows = _load(_write(tmp_path, "x.csv", _claims_with(_embedded_line_break)))
    assert counts == sample_claims[0]
    plan = CONTRACTS["medical_claim"].names.index("plan")
    assert {row[plan] for row in rows} == {"medicare, part b\r\nsecond line"}


def _sample_as_text_table() -> pa.Table:
    header, body = _rows("medical_claim")
    return pacsv.read_csv(io.BytesIO(_csv(header, body).encode()), convert_options=pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=True))


def _retyped(table: pa.Table, columns, to) -> pa.Table:
    return pa.Table.from_arrays([to(table[n]) if n in columns else table[n] for n in table.column_names],
                                names=table.column_names)


def _timestamps(unit: str, zone: str | None):
    def to(values):
        stamps = pc.cast(values, pa.timestamp(unit))
        return pc.assume_timezone(stamps, zone) if zone else stamps
    return to


_IDS = ("claim_id", "person_id", "member_id", "rendering_npi", "billing_npi")
_AMOUNTS = ("paid_amount", "allowed_amount", "charge_amount", "service_unit_quantity")
# each made from the sample as text
PARQUET_VARIANTS = {
    "all text": lambda t: t,
    # pyarrow's CSV reader, and pandas, keep an empty value as an empty string
    "empty strings, not nulls": lambda t: pa.table({n: pc.if_else(pc.is_null(t[n]), "", t[n]) for n in t.column_names}),
    "large_string": lambda t: t.cast(pa.schema([pa.field(f.name, pa.large_string()) for f in t.schema])),
    "dictionary-encoded strings": lambda t: pa.table({n: pc.dictionary_encode(t[n]) for n in t.column_names}),
    "types as pyarrow infers them": lambda _: pacsv.read_csv(io.BytesIO(_csv(*_rows("medical_claim")).encode())),
    "date32": lambda t: _retyped(t, CLAIM_DATES, lambda v: pc.cast(v, pa.date32())),
    "date64": lambda t: _retyped(t, CLAIM_DATES, lambda v: pc.cast(pc.cast(v, pa.date32()), pa.date64())),
    "binary, not UTF-8 annotated strings": lambda t: t.cast(pa.schema([pa.field(f.name, pa.binary()) for f in t.schema])),
    "line number int32": lambda t: _retyped(t, ("claim_line_number",), lambda v: pc.cast(v, pa.int32())),
    "line number float64": lambda t: _retyped(t, ("claim_line_number",), lambda v: pc.cast(v, pa.float64())),
    "line number decimal(10,2)": lambda t: _retyped(t, ("claim_line_number",),
                                                      lambda v: pc.cast(v, pa.decimal128(10, 2))),
    "amounts float64": lambda t: _retyped(t, _AMOUNTS, lambda v: pc.cast(v, pa.float64())),
    "amounts decimal(38,10)": lambda t: _retyped(t, _AMOUNTS, lambda v: pc.cast(v, pa.decimal128(38, 10))),
    "identifiers int64": lambda t: _retyped(t, _IDS, lambda v: pc.cast(v, pa.int64())),
    # pandas writes an integer column with a missing value as float64
    "identifiers float64 (pandas)": lambda t: _retyped(t, _IDS, lambda v: pc.cast(v, pa.float64())),
    "identifiers decimal(22,2)": lambda t: _retyped(t, _IDS, lambda v: pc.cast(v, pa.decimal128(22, 2))),
    **{f"timestamp[{unit}, {zone}]": (lambda t, unit=unit, zone=zone: _retyped(t, CLAIM_DATES,
                                                                                _timestamps(unit, zone)))
       for unit in ("ms", "us", "ns") for zone in (None, "UTC", "America/New_York")},
}


@pytest.mark.parametrize("variant", list(PARQUET_VARIANTS))
def test_a_parquet_variant_of_the_sample_loads_the_same_rows(tmp_path, sample_claims, variant):
    table = PARQUET_VARIANTS[variant](_sample_as_text_table())
    assert _load(_write(tmp_path, "x.parquet", table)) == sample_claims


def test_a_whole_float_identifier_reads_as_the_integer_and_others_as_written(tmp_path):
    table = pa.table({"claim_id": pa.array([1.0, 2.5, 1e17, float("nan")]), "claim_line_number": [1, 1, 1, 1],
                      "person_id": pa.array([10046.0, 10046.0, 10046.0, 10046.0], pa.float32()),
                      "claim_start_date": ["2024-03-01"] * 4, "hcpcs_code": ["63030"] * 4,
                      "diagnosis_code_1": ["M51.16"] * 4})
    with duckdb.connect() as con:
        load_delivery(con, "medical_claim", "2024-03", [_write(tmp_path, "x.parquet", table)], tmp_path)
        assert con.execute("select claim_id, person_id from raw.medical_claim order by _line_number").fetchall() == [
            ("1", "10046"), ("2.5", "10046"), ("100000000000000000", "10046"), ("nan", "10046")]


def test_a_table_folder_is_found_whatever_its_case(tmp_path):
    for folder in ("MEDICAL_CLAIM", "Eligibility", "observation"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "2024-03.csv").write_text("x")
    scan = scan_landing(tmp_path)
    assert [(table, path.relative_to(tmp_path).as_posix()) for table, path in scan.files] == [
        ("eligibility", "Eligibility/2024-03.csv"), ("medical_claim", "MEDICAL_CLAIM/2024-03.csv"),
        ("observation", "observation/2024-03.csv")]
    assert scan.not_read == []


def test_a_reject_after_blank_lines_before_the_header_keeps_its_line_number(tmp_path):
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1"
    text = f"\n\n{header}\nC1,1,P1,2024-03-01,63030,M51.16\nC2,1,P2\nC3,1,P3,2024-03-01,63030,M51.16\n"
    with duckdb.connect() as con:
        report = load_delivery(con, "medical_claim", "2024-03", [_write(tmp_path, "x.csv", text)], tmp_path)
        lines = con.execute("select _line_number, claim_id from raw.medical_claim order by 1").fetchall()
        rejects = con.execute("select _line_number, rule from raw.medical_claim__quarantine").fetchall()
    assert (report.read, report.loaded, report.quarantined) == (3, 2, 1)
    assert (lines, rejects) == ([(2, "C1"), (4, "C3")], [(3, "too_few_columns")])


def test_a_parquet_file_naming_a_contract_column_twice_fails(tmp_path):
    """As in a CSV header: which of person_id and PERSON_ID holds the person is ambiguous."""
    table = pa.Table.from_arrays([pa.array(["C1"]), pa.array([1]), pa.array(["P1"]), pa.array(["P2"]),
                                  pa.array(["2024-03-01"]), pa.array(["63030"]), pa.array(["M51.16"])],
                                 names=["claim_id", "claim_line_number", "person_id", "PERSON_ID",
                                        "claim_start_date", "hcpcs_code", "diagnosis_code_1"])
    with duckdb.connect() as con, pytest.raises(FileContractError, match="PERSON_ID appears twice"):
        load_delivery(con, "medical_claim", "2024-03", [_write(tmp_path, "x.parquet", table)], tmp_path)



def _zoned(written: str, zone: str) -> pa.Array:
    offset = re.fullmatch(r"([+-])(\d\d):(\d\d)", zone)
    tz = timezone((-1 if offset[1] == "-" else 1) * timedelta(hours=int(offset[2]), minutes=int(offset[3]))) \
        if offset else ZoneInfo(zone)
    return pa.array([datetime.fromisoformat(written).replace(tzinfo=tz)], pa.timestamp("ns", zone))


@pytest.mark.parametrize("machine_time_zone", ["UTC", "Asia/Tokyo"])
@pytest.mark.parametrize("zone, written", [
    ("America/New_York", "2024-03-01 20:30:00"),  # 01:30 UTC the next day
    ("+05:30", "2024-03-01 02:00:00"),  # 20:30 UTC the day before
    ("-05:00", "2024-03-01 23:00:00"),
    ("UTC", "2024-03-01 23:30:00"),
])
def test_a_zoned_parquet_timestamp_is_the_date_in_its_own_zone(tmp_path, machine_time_zone, zone, written):
    """pandas and pyarrow keep a timestamp's zone in the file (its Arrow schema): the date as written there is the
    date a reader of the file sees (pandas' .dt.date), as a CSV's offset keeps the date as written."""
    table = pa.table({"observation_id": ["O1"], "person_id": ["P1"], "observation_date": _zoned(written, zone),
                      "source_code": ["72514-3"], "result": ["7"]})
    con = duckdb.connect()
    con.execute(f"set TimeZone = '{machine_time_zone}'")
    load_delivery(con, "observation", "2024-03", [_write(tmp_path, "x.parquet", table)], tmp_path)
    assert con.execute("select observation_date::varchar from raw.observation").fetchall() == [("2024-03-01",)]


def test_a_parquet_timestamp_in_a_zone_duckdb_does_not_know_fails(tmp_path):
    table = pa.table({"observation_id": ["O1"], "person_id": ["P1"], "source_code": ["72514-3"], "result": ["7"],
                      "observation_date": pa.array([0], pa.timestamp("us", "Mars/Olympus_Mons"))})
    with duckdb.connect() as con, pytest.raises(FileContractError, match="time zone 'Mars/Olympus_Mons'"):
        load_delivery(con, "observation", "2024-03", [_write(tmp_path, "x.parquet", table)], tmp_path)


def test_the_sample_split_over_several_files_of_one_delivery_loads_the_same_rows(tmp_path, sample_claims):
    """A vendor's delivery folder: part files in CSV, compressed CSV and Parquet, one delivery (2024-03)."""
    header, body = _rows("medical_claim")
    parts = [body[:700], body[700:1400], body[1400:]]
    folder = tmp_path / "medical_claim"
    folder.mkdir()
    _write(folder, "2024-03_part1.csv", _csv(header, parts[0], "\r\n"))
    _write(folder, "2024-03_part2.csv.gz", gzip.compress(_csv(header, parts[1]).encode()))
    _write(folder, "2024-03_part3.parquet", pacsv.read_csv(io.BytesIO(_csv(header, parts[2]).encode())))
    files = [path for table, path in scan_landing(tmp_path).files]
    assert len(files) == 3
    with duckdb.connect() as con:
        report = load_delivery(con, "medical_claim", "2024-03", files, tmp_path)
        rows = con.execute(f"select {', '.join(CONTRACTS['medical_claim'].names)} from raw.medical_claim "
                           "order by all").fetchall()
        lines = con.execute("select _source_file, max(_line_number) from raw.medical_claim group by 1 "
                            "order by 1").fetchall()
    assert ((report.read, report.loaded, report.quarantined, report.by_rule), rows) == sample_claims
    assert lines == [("medical_claim/2024-03_part1.csv", 701), ("medical_claim/2024-03_part2.csv.gz", 701),
                     ("medical_claim/2024-03_part3.parquet", 675)]


def test_a_delivery_read_under_another_reader_is_loaded_again(tmp_path, monkeypatch):
    """A delivery is left as loaded only when its files and how they are read are unchanged: the reader's code
    (CSV NULL words, Parquet types) decides the values as much as the rules do."""
    import orchestration.ingest.loader as loader

    header, body = _rows("medical_claim")
    path = _write(tmp_path, "2024-03.csv", _csv(header, body[:5]))
    with duckdb.connect() as con:
        load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
        assert load_delivery(con, "medical_claim", "2024-03", [path], tmp_path).unchanged_since is not None
        changed = tmp_path / "reader.py"
        changed.write_bytes(loader.READER_CODE.read_bytes() + b"\n# a later reader\n")
        monkeypatch.setattr(loader, "READER_CODE", changed)
        assert load_delivery(con, "medical_claim", "2024-03", [path], tmp_path).unchanged_since is None
