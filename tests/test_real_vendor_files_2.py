"""Real vendor files, round 2 (round 1: tests/test_real_vendor_files.py). What a spine practice's or PT network's
data engineer drops in the landing folder as their vendor exports it: a Windows export in Windows-1252, Excel's
"Unicode text" (UTF-16, tab-delimited), pipe- and tab-delimited files, Parquet written by a computation (float
artifacts) and Parquet datasets written by Spark, Hive or pyarrow. Each variant of the Tuva sample must load the very
rows the plain sample loads (rows read = loaded + quarantined, every value as written), and say how it was read.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from orchestration.contract import CONTRACTS
from orchestration.ingest.discovery import discover_deliveries, scan_landing
from orchestration.ingest.loader import load_delivery, load_deliveries
from orchestration.ingest.reader import FileContractError

from test_real_vendor_files import SAMPLE, _rows, pytestmark  # noqa: F401 (the Tuva sample, or skip)

# what Windows users type into a payer or plan name: umlauts, tilde, Excel's curly quotes and en dash
NAMES = ("Müller BKK", "Peña Health – “Gold”", "Société Générale’s plan", "Größe €")


def _windows_names() -> tuple[list[str], list[list[str]]]:
    """The claims sample with Windows users' payer and plan names on some of its lines."""
    header, body = _rows("medical_claim")
    payer, plan = header.index("payer"), header.index("plan")
    for i, row in enumerate(body):
        if i % 3 == 0:
            row[payer], row[plan] = NAMES[i % 4], NAMES[(i + 1) % 4]
    return header, body


def _csv(header: list[str], body: list[list[str]], delimiter: str = ",", line_end: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def _load(path: Path, table: str = "medical_claim", landing: Path | None = None):
    """((read, loaded, quarantined, by rule), every loaded row's contract columns sorted) and the files' details."""
    with duckdb.connect() as con:
        report = load_delivery(con, table, "2024-03", [path], landing or path.parent)
        rows = con.execute(f"select {', '.join(CONTRACTS[table].names)} from raw.{table} order by all").fetchall()
    return ((report.read, report.loaded, report.quarantined, report.by_rule), rows), [f.detail for f in report.files]


@pytest.fixture(scope="module")
def windows_claims(tmp_path_factory):
    """The sample with Windows names, as UTF-8: what every other encoding of it must load."""
    path = tmp_path_factory.mktemp("utf8") / "x.csv"
    path.write_text(_csv(*_windows_names()), encoding="utf-8", newline="")
    loaded, details = _load(path)
    assert loaded[0][2] == 0 and details == [None]
    return loaded


def test_the_windows_names_are_loaded_as_written(windows_claims):
    payer = CONTRACTS["medical_claim"].names.index("payer")
    assert {row[payer] for row in windows_claims[1]} >= set(NAMES)


@pytest.mark.parametrize("variant, encoding, said", [
    ("Windows-1252 (Excel on Windows: Save as CSV)", "cp1252", "Windows-1252"),
    ("Windows-1252, CRLF, gzip", "cp1252-crlf-gzip", "Windows-1252"),
    ("UTF-16 with byte-order mark (Excel: Unicode text)", "utf-16", "UTF-16"),
    ("UTF-16 big-endian with byte-order mark", "utf-16-be-bom", "UTF-16"),
    ("UTF-8 with byte-order mark", "utf-8-sig", None),
])
def test_another_encoding_of_the_sample_loads_the_same_rows_and_says_so(tmp_path, windows_claims, variant,
                                                                         encoding, said):
    text = _csv(*_windows_names())
    if encoding == "cp1252-crlf-gzip":
        name, content = "x.csv.gz", gzip.compress(_csv(*_windows_names(), line_end="\r\n").encode("cp1252"))
    elif encoding == "utf-16-be-bom":
        name, content = "x.csv", b"\xfe\xff" + text.encode("utf-16-be")
    else:
        name, content = "x.csv", text.encode(encoding)
    (tmp_path / name).write_bytes(content)
    loaded, [detail] = _load(tmp_path / name)
    assert loaded == windows_claims
    if said:
        assert said in detail
    else:
        assert detail is None


def test_a_windows_1252_file_is_said_in_the_ledger_and_its_header_may_be_windows_1252(tmp_path):
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,Bemerkung über"
    text = f"{header}\r\nC1,1,P1,2024-03-01,63030,M51.16,Müller\r\nC2,1,P2,2024-03-01,63030,M51.16,x\r\n"
    path = tmp_path / "2024-03.csv"
    path.write_bytes(text.encode("cp1252"))
    with duckdb.connect() as con:
        report = load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)
        ledger = con.execute("select rows_read, rows_loaded, status, detail from raw._deliveries").fetchall()
    assert (report.read, report.loaded, report.quarantined) == (2, 2, 0)
    assert report.files[0].extra_columns == ["Bemerkung über"]
    [(read, loaded, status, detail)] = ledger
    assert (read, loaded, status) == (2, 2, "loaded") and "Windows-1252" in detail


def test_a_broken_byte_in_a_utf8_file_still_quarantines_only_its_line(tmp_path):
    """A file that holds UTF-8 characters is a UTF-8 file: a byte that is not UTF-8 there is damage, not another
    encoding (reading the whole file as Windows-1252 would turn every ü into Ã¼)."""
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,payer"
    content = (f"{header}\nC1,1,P1,2024-03-01,63030,M51.16,Müller\n".encode()
               + b"C2,1,P2,2024-03-01,63030,M51.16,Pe\xf1a\n")
    (tmp_path / "x.csv").write_bytes(content)
    (counts, rows), [detail] = _load(tmp_path / "x.csv")
    assert counts == (2, 1, 1, {"invalid_utf8": 1}) and detail is None
    assert "Müller" in rows[0]


def test_a_file_neither_utf8_nor_windows_1252_keeps_its_lines_quarantined(tmp_path):
    """0x81 is no Windows-1252 character: the file is not read as Windows-1252; its damaged line is quarantined."""
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,payer"
    content = f"{header}\nC1,1,P1,2024-03-01,63030,M51.16,x\n".encode() + b"C2,1,P2,2024-03-01,63030,M51.16,\x81\xe9\n"
    (tmp_path / "x.csv").write_bytes(content)
    (counts, _), [detail] = _load(tmp_path / "x.csv")
    assert counts == (2, 1, 1, {"invalid_utf8": 1}) and detail is None


def test_the_run_summary_says_which_file_was_read_in_another_encoding(tmp_path):
    from orchestration.ingest.accounting import landing_summary

    header, body = _windows_names()
    folder = tmp_path / "medical_claim"
    folder.mkdir()
    (folder / "2024-03.csv").write_bytes(_csv(header, body[:50]).encode("cp1252"))
    (folder / "2024-04.csv").write_bytes(_csv(header, body[50:100]).encode("utf-16"))
    with duckdb.connect() as con:
        for delivery, files in sorted(discover_deliveries(tmp_path).items()):
            load_delivery(con, "medical_claim", delivery, files["medical_claim"], tmp_path)
        summary = landing_summary(con, tmp_path)
    assert "Files read with a note (2):" in summary
    assert any(line.startswith("  medical_claim/2024-03.csv: read as Windows-1252") for line in summary)
    assert any(line.startswith("  medical_claim/2024-04.csv: read as UTF-16") for line in summary)


def _observations_with_double_results(artifacts: bool) -> pa.Table:
    """The observation sample with `result` as float64 (a vendor's computed score), the numeric ones off by a
    float artifact or two (a few units in the last place: (0.1 + 0.2) * 10, a sum of tenths) when `artifacts`."""
    import numpy as np

    header, body = _rows("observation")
    table = pacsv.read_csv(io.BytesIO(_csv(header, body).encode()), convert_options=pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=True))
    values = []
    for i, text in enumerate(table["result"].to_pylist()):
        try:
            value = float(text)
        except (TypeError, ValueError):
            values.append(None)
            continue
        if artifacts and value:
            value = np.nextafter(value, np.inf if i % 2 else -np.inf)
            value = np.nextafter(value, np.inf if i % 2 else -np.inf) if i % 3 == 0 else value
        values.append(float(value))
    return table.set_column(table.column_names.index("result"), "result", pa.array(values, pa.float64()))


def test_float_artifacts_in_parquet_scores_read_as_the_score_and_are_said(tmp_path):
    pq.write_table(_observations_with_double_results(False), tmp_path / "clean.parquet")
    pq.write_table(_observations_with_double_results(True), tmp_path / "computed.parquet")
    clean, [clean_detail] = _load(tmp_path / "clean.parquet", "observation")
    computed, [detail] = _load(tmp_path / "computed.parquet", "observation")
    assert clean_detail is None and clean[0][2] == 0
    assert computed == clean
    assert "float artifact" in detail


def test_a_score_computed_as_28_000000000000004_is_28_and_3_0004_still_has_too_many_decimals(tmp_path):
    table = pa.table({"person_id": ["P1", "P2", "P3", "P4"], "observation_date": ["2024-03-01"] * 4,
                      "source_code": ["97909-6", "97909-6", "72514-3", "97909-6"],
                      "result": pa.array([28.000000000000004, (0.1 + 0.2) * 10, 3.0004, 12.5], pa.float64()),
                      "paid": pa.array([12345678901234.56, 1520.0000000000002, 0.1, 2.0])})
    pq.write_table(table, tmp_path / "x.parquet")
    with duckdb.connect() as con:
        report = load_delivery(con, "observation", "2024-03", [tmp_path / "x.parquet"], tmp_path)
        loaded = con.execute("select person_id, result from raw.observation order by 1").fetchall()
        quarantined = con.execute("select _line_number, rule from raw.observation__quarantine").fetchall()
    assert (report.read, report.loaded, report.quarantined) == (4, 3, 1)
    assert loaded == [("P1", "28"), ("P2", "3"), ("P4", "12.5")]
    assert quarantined == [(3, "score_precision")]
    assert "2 values" in report.files[0].detail


def test_a_double_of_16_significant_digits_is_no_artifact(tmp_path):
    """Only a value within a few units in the last place of a decimal of 15 significant digits is taken for that
    decimal; 12345678901234.56 is 20 units away from 12345678901234.6 and is read as written."""
    table = pa.table({"claim_id": ["C1"], "claim_line_number": [1], "person_id": ["P1"],
                      "claim_start_date": ["2024-03-01"], "hcpcs_code": ["63030"], "diagnosis_code_1": ["M51.16"],
                      "paid_amount": pa.array([1520.0000000000002]), "charge_amount": [12345678901234.56]})
    pq.write_table(table, tmp_path / "x.parquet")
    with duckdb.connect() as con:
        report = load_delivery(con, "medical_claim", "2024-03", [tmp_path / "x.parquet"], tmp_path)
        assert con.execute("select paid_amount::varchar, charge_amount::varchar from raw.medical_claim"
                           ).fetchall() == [("1520.00", "12345678901234.56")]
    assert "1 value" in report.files[0].detail


def _claims_text(delimiter: str) -> str:
    return _csv(*_windows_names(), delimiter=delimiter)


@pytest.mark.parametrize("name, content", [
    ("2024-03.tsv", _claims_text("\t").encode()),
    ("2024-03.psv", _claims_text("|").encode()),
    ("2024-03.txt", _claims_text("|").encode()),
    ("2024-03.txt", _claims_text("\t").encode()),
    ("2024-03.txt", _claims_text(",").encode()),
    ("2024-03.TSV.GZ", gzip.compress(_claims_text("\t").encode())),
    ("2024-03.txt", _claims_text("\t").replace("\n", "\r\n").encode("utf-16")),  # Excel: Save as Unicode text
    ("2024-03.psv", _claims_text("|").encode("cp1252")),
], ids=["tsv", "psv", "txt pipe", "txt tab", "txt comma", "tsv.gz", "txt UTF-16 tab (Excel Unicode text)",
        "psv Windows-1252"])
def test_a_tab_or_pipe_delimited_file_is_read_as_the_same_rows(tmp_path, windows_claims, name, content):
    folder = tmp_path / "medical_claim"
    folder.mkdir()
    (folder / name).write_bytes(content)
    scan = scan_landing(tmp_path)
    assert scan.not_read == [] and [p.name for _, p in scan.files] == [name]
    assert discover_deliveries(tmp_path) == {"2024-03": {"medical_claim": [folder / name]}}
    loaded, _ = _load(folder / name, landing=tmp_path)
    assert loaded == windows_claims


def test_a_text_file_that_is_no_table_is_not_read_and_says_why(tmp_path):
    """A vendor's read-me beside the export is no delivery: a .txt whose first line names none of the table's
    required columns is reported, not loaded (which would fail the run)."""
    folder = tmp_path / "medical_claim"
    folder.mkdir()
    (folder / "README.txt").write_text("Claims extract, March 2024\nContact: data@vendor.example\n")
    (folder / "2024-03.txt").write_text(_claims_text("|"))
    scan = scan_landing(tmp_path)
    assert [p.name for _, p in scan.files] == ["2024-03.txt"]
    [unread] = scan.not_read
    assert unread.path == "medical_claim/README.txt" and unread.table == "medical_claim"
    assert "names no required column of medical_claim" in unread.reason


def test_a_tsv_that_is_comma_delimited_fails_naming_the_file_and_the_delimiter(tmp_path):
    path = tmp_path / "2024-03.tsv"
    path.write_text(_claims_text(","))
    with duckdb.connect() as con, pytest.raises(FileContractError, match=r"2024-03.tsv: .*comma-delimited.*tab"):
        load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)


def _claims_table(body: list[list[str]] | None = None) -> pa.Table:
    header, rows = _windows_names()
    return pacsv.read_csv(io.BytesIO(_csv(header, rows if body is None else body).encode()),
                          convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                               strings_can_be_null=True))


SPARK_MARKERS = ("_SUCCESS", "._SUCCESS.crc", "_committed_4127348123", "_started_4127348123")


def _spark_dataset(folder: Path, table: pa.Table, parts: int = 3) -> list[Path]:
    """As Spark writes df.write.parquet(folder): part files, their .crc checksums, _SUCCESS, commit markers."""
    folder.mkdir(parents=True)
    size = -(-table.num_rows // parts)
    paths = []
    for i in range(parts):
        name = f"part-{i:05d}-3f1e2d4c-20240315-4b7a-9c1d-0123456789ab-c000.snappy.parquet"
        pq.write_table(table.slice(i * size, size), folder / name, compression="snappy")
        (folder / f".{name}.crc").write_bytes(b"crc\x00")
        paths.append(folder / name)
    for marker in SPARK_MARKERS:
        (folder / marker).write_bytes(b"")
    return paths


@pytest.mark.parametrize("dataset", ["medical_claim/2024-03", "medical_claim/claims_2024-03.parquet",
                                     "medical_claim_2024-03.parquet"])
def test_a_spark_dataset_folder_is_one_delivery_of_the_same_rows(tmp_path, windows_claims, dataset):
    parts = _spark_dataset(tmp_path / dataset, _claims_table())
    scan = scan_landing(tmp_path)
    assert scan.not_read == []
    assert sorted(p for _, p in scan.files) == parts
    assert sorted(m.path.rsplit("/", 1)[-1] for m in scan.markers) == sorted(
        [*SPARK_MARKERS, *(f".{p.name}.crc" for p in parts)])
    assert discover_deliveries(tmp_path) == {"2024-03": {"medical_claim": parts}}
    with duckdb.connect() as con:
        report = load_delivery(con, "medical_claim", "2024-03", parts, tmp_path)
        rows = con.execute(f"select {', '.join(CONTRACTS['medical_claim'].names)} from raw.medical_claim "
                           "order by all").fetchall()
        lineage = con.execute("select _source_file, min(_line_number), count(*) from raw.medical_claim "
                              "group by 1 order by 1").fetchall()
    assert ((report.read, report.loaded, report.quarantined, report.by_rule), rows) == windows_claims
    assert [(file, first) for file, first, _ in lineage] == [
        (p.relative_to(tmp_path).as_posix(), 1) for p in parts]


def test_a_hive_partitioned_dataset_is_one_delivery_per_month_partition(tmp_path, windows_claims):
    """pyarrow/Spark partitionBy("year", "month"): each month's partition is that month's delivery; a partition
    column that is a contract column (data_source) is read from the folder name, as the writer took it out of
    the files."""
    table = _claims_table()
    half = table.num_rows // 2
    root = tmp_path / "medical_claim"
    for month, part in (("03", table.slice(0, half)), ("4", table.slice(half))):
        folder = root / "year=2024" / f"month={month}" / "data_source=vendor_a"
        folder.mkdir(parents=True)
        pq.write_table(part.drop(["data_source"]), folder / "part-0.parquet")
    (root / "_SUCCESS").write_bytes(b"")
    scan = scan_landing(tmp_path)
    assert scan.not_read == [] and [m.path for m in scan.markers] == ["medical_claim/_SUCCESS"]
    deliveries = discover_deliveries(tmp_path)
    assert sorted(deliveries) == ["2024-03", "2024-04"]
    with duckdb.connect() as con:
        reports = list(load_deliveries(con, "medical_claim", [(k, v["medical_claim"]) for k, v in
                                                              sorted(deliveries.items())], tmp_path))
        sources = con.execute("select distinct data_source from raw.medical_claim").fetchall()
        extra = {c for r in reports for f in r.files for c in f.extra_columns}
    assert sum(r.read for r in reports) == sum(r.loaded for r in reports) == table.num_rows
    assert sources == [("vendor_a",)] and {"year", "month"} <= extra and "data_source" not in extra


def test_a_dataset_being_written_is_not_read_and_says_why(tmp_path):
    """Spark writes into _temporary/ and moves the parts out when the job commits: until then the folder is not
    a complete delivery."""
    folder = tmp_path / "medical_claim" / "2024-03"
    _spark_dataset(folder, _claims_table(), parts=2)
    (folder / "_SUCCESS").unlink()
    (folder / "_temporary" / "0").mkdir(parents=True)
    (folder / "_temporary" / "0" / "part-00002.snappy.parquet").write_bytes(b"PAR1")
    scan = scan_landing(tmp_path)
    assert scan.files == []
    assert {n.path for n in scan.not_read} >= {f"medical_claim/2024-03/{p.name}" for p in folder.glob("part-*")}
    assert all("_temporary" in n.reason for n in scan.not_read)


def test_an_archive_subfolder_of_parquet_files_is_still_not_read(tmp_path):
    """A folder of earlier deliveries (not part files, no _SUCCESS) is no dataset: reading it would load old data."""
    (tmp_path / "medical_claim" / "archive").mkdir(parents=True)
    pq.write_table(_claims_table(), tmp_path / "medical_claim" / "archive" / "2023-01.parquet")
    scan = scan_landing(tmp_path)
    assert scan.files == [] and [n.path for n in scan.not_read] == ["medical_claim/archive/2023-01.parquet"]


def test_the_run_summary_counts_a_datasets_marker_files_apart_from_files_not_read(tmp_path):
    from orchestration.ingest.accounting import landing_summary, not_read_warning

    parts = _spark_dataset(tmp_path / "medical_claim" / "2024-03", _claims_table(), parts=2)
    with duckdb.connect() as con:
        load_delivery(con, "medical_claim", "2024-03", parts, tmp_path)
        summary = landing_summary(con, tmp_path)
    assert not_read_warning(tmp_path) == [] and not any(line.startswith("Files not read") for line in summary)
    assert "Parquet datasets' job marker and checksum files (no data): 6 (medical_claim/2024-03/._SUCCESS.crc ... " \
           "medical_claim/2024-03/_started_4127348123)" in summary


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_on_spark_a_windows_export_and_a_spark_dataset_load_the_rows_duckdb_loads(tmp_path, spark_warehouse):
    """WAREHOUSE=spark stages every file with the same readers: the same reports and rows as on DuckDB."""
    spark_warehouse.reset()
    header, body = _windows_names()
    (tmp_path / "medical_claim").mkdir()
    (tmp_path / "medical_claim" / "2024-02.psv").write_bytes(_csv(header, body[:400], "|").encode("cp1252"))
    _spark_dataset(tmp_path / "medical_claim" / "2024-03", _claims_table(body[400:]), parts=2)
    duck = duckdb.connect()
    columns = ", ".join(CONTRACTS["medical_claim"].names)
    for delivery, files in sorted(discover_deliveries(tmp_path).items()):
        expected = load_delivery(duck, "medical_claim", delivery, files["medical_claim"], tmp_path)
        report = load_delivery(spark_warehouse.con, "medical_claim", delivery, files["medical_claim"], tmp_path)
        assert report == expected and report.read == report.loaded and report.read > 0
        if delivery == "2024-02":
            assert "Windows-1252" in report.files[0].detail
    duck.register("spark_rows", spark_warehouse.spark.sql(
        f"select {columns} from raw.medical_claim").toArrow())
    assert duck.execute(f"select {columns} from raw.medical_claim except all select * from spark_rows").fetchall() == []
    assert duck.execute(f"select * from spark_rows except all select {columns} from raw.medical_claim").fetchall() == []
    assert duck.execute("select count(*) from spark_rows").fetchone()[0] == len(body)
    duck.close()


def test_the_landing_check_counts_marker_files_and_passes(tmp_path, monkeypatch):
    from orchestration.checks.landing_checks import CHECKS
    from orchestration.resources import WarehouseResource

    _spark_dataset(tmp_path / "landing" / "medical_claim" / "2024-03", _claims_table(), parts=2)
    monkeypatch.setenv("LANDING_DIR", str(tmp_path / "landing"))
    check = next(c for c in CHECKS if any(k.asset_key.path == ["raw", "medical_claim"] for k in c.check_keys))
    result = check(warehouse=WarehouseResource(data_dir=str(tmp_path / "data")))
    assert result.passed and result.metadata["dataset_marker_files"].value == 6


def test_a_spark_dataset_of_csv_parts_is_not_read_and_says_what_to_do(tmp_path):
    """Spark writes CSV parts without a header by default: they are no delivery the contract can read."""
    folder = tmp_path / "medical_claim" / "2024-03"
    folder.mkdir(parents=True)
    (folder / "part-00000-3f1e2d4c-c000.csv").write_text("C1,1,P1,2024-03-01,63030,M51.16\n")
    (folder / "_SUCCESS").write_bytes(b"")
    scan = scan_landing(tmp_path)
    assert scan.files == [] and {n.path for n in scan.not_read} == {
        "medical_claim/2024-03/part-00000-3f1e2d4c-c000.csv", "medical_claim/2024-03/_SUCCESS"}
    assert all("dataset of CSV part files" in n.reason for n in scan.not_read)


def test_the_landing_sensor_requests_one_run_for_a_datasets_parts(tmp_path, monkeypatch):
    """A Spark dataset has as many part files as the job had tasks (often 200): one ingest run loads them all."""
    import dagster as dg

    from orchestration.sensors import landing_sensor

    parts = _spark_dataset(tmp_path / "medical_claim" / "2024-03", _claims_table(), parts=3)
    (tmp_path / "medical_claim" / "2024-04.csv").write_text(_claims_text(","))
    monkeypatch.setenv("LANDING_DIR", str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    result = landing_sensor(dg.build_sensor_context(instance=instance))
    assert sorted(r.partition_key for r in result.run_requests) == ["2024-03", "2024-04"]
    [dataset_run] = [r for r in result.run_requests if r.partition_key == "2024-03"]
    assert dataset_run.tags["landing/files"] == "3"
    again = landing_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
    assert again.run_requests == []
    pq.write_table(_claims_table().slice(0, 5), parts[1])  # a part written again: the delivery is loaded again
    changed = landing_sensor(dg.build_sensor_context(instance=instance, cursor=again.cursor))
    assert [(r.partition_key, r.tags["landing/files"]) for r in changed.run_requests] == [("2024-03", "1")]
