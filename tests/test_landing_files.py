"""Every file under LANDING_DIR is read or reported, delivery names are real months, required data is present.

One test per defect of the adversarial pass (issue 14): compressed CSV skipped, other files skipped silently,
an empty claims folder published, `claims.csv` outranking monthly deliveries, `2025-13` taken as a delivery.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

import orchestration.definitions
from e2e_support import definitions_for
from orchestration.checks.landing_checks import CHECKS as LANDING_CHECKS
from orchestration.checks.required_data import CHECKS as REQUIRED_CHECKS
from orchestration.ingest.accounting import landing_summary
from orchestration.ingest.discovery import BadDeliveryName, delivery_key, discover_deliveries, scan_landing
from orchestration.ingest.loader import load_delivery
from orchestration.ingest.ledger import create_ledger
from orchestration.raw_schema import create_raw_tables
from orchestration.resources import WarehouseResource
from orchestration.run import prepare_dagster_home, run_pipeline
from orchestration.settings import load_settings

HEADER = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1"
CLAIMS = "\n".join([HEADER, "C1,1,P1,2024-03-01,63030,M51.16", "C1,2,P1,2024-03-01,G2136,M51.16",
                    "C2,1,P2,2024-03-02,63030,M51.16", "C3,1,P3,2024-03-04,6303,M51.16"]) + "\n"


def _check(checks, table: str, name: str) -> dg.AssetChecksDefinition:
    return next(c for c in checks if dg.AssetCheckKey(dg.AssetKey(["raw", table]), name) in c.check_keys)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    elif path.name.endswith(".zst"):
        with pa.output_stream(str(path), compression="zstd") as out:
            out.write(text.encode())
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["2024-03.csv.gz", "2024-03.csv.zst"])
def test_compressed_csv_is_read_like_plain_csv(tmp_path, name):
    plain = _write(tmp_path / "plain" / "medical_claim" / "2024-03.csv", CLAIMS)
    packed = _write(tmp_path / "packed" / "medical_claim" / name, CLAIMS)
    assert discover_deliveries(tmp_path / "packed") == {"2024-03": {"medical_claim": [packed]}}
    results = []
    for path in (plain, packed):
        with duckdb.connect() as con:
            report = load_delivery(con, "medical_claim", "2024-03", [path], path.parent.parent)
            rows = con.execute("select claim_id, claim_line_number, person_id, _line_number from raw.medical_claim "
                               "order by all").fetchall()
            results.append(((report.read, report.loaded, report.quarantined, report.by_rule), rows))
    assert results[0] == results[1]
    assert results[1][0] == (4, 4, 0, {})  # the 4-character HCPCS loads (NULL) with a warning


@pytest.mark.parametrize("lines", [3, 200_000])  # cut inside the header / far past the header
def test_a_truncated_compressed_file_fails_with_its_name(tmp_path, lines):
    from orchestration.ingest.reader import FileContractError

    path = tmp_path / "medical_claim" / "2024-03.csv.gz"
    path.parent.mkdir(parents=True)
    text = HEADER + "\n" + "".join(f"C{i},1,P{i},2024-03-01,63030,M51.16\n" for i in range(lines))
    packed = gzip.compress(text.encode())
    path.write_bytes(packed[: max(20, len(packed) * 6 // 10)])
    with duckdb.connect() as con, pytest.raises(FileContractError, match=r"2024-03\.csv\.gz"):
        load_delivery(con, "medical_claim", "2024-03", [path], tmp_path)


def _landing_with_strays(root: Path) -> Path:
    landing = root / "landing"
    _write(landing / "medical_claim" / "2024-03.csv", CLAIMS)
    _write(landing / "medical_claim" / "2024-04.csv.bz2", CLAIMS)
    _write(landing / "medical_claim" / "notes.txt", "sent by the payer\n")
    _write(landing / "medical_claim" / "2025-13.csv", CLAIMS)
    _write(landing / "medical_claim" / "claims_2025-02-30.csv", CLAIMS)
    _write(landing / "medical_claim" / "old" / "2023-01.csv", CLAIMS)
    _write(landing / "medical_claim" / ".2024-05.csv.part", CLAIMS)
    _write(landing / "medical_claims" / "2024-06.csv", CLAIMS)
    _write(landing / "eligibility.xlsx", "binary")
    _write(landing / "readme.md", "hello")
    (landing / "observations").mkdir()
    return landing


def test_files_not_read_are_reported_with_the_reason(tmp_path):
    landing = _landing_with_strays(tmp_path)
    scan = scan_landing(landing)
    assert [(t, p.name) for t, p in scan.files] == [("medical_claim", "2024-03.csv")]
    reasons = {n.path: (n.table, n.reason) for n in scan.not_read}
    assert set(reasons) == {"medical_claim/2024-04.csv.bz2", "medical_claim/notes.txt", "medical_claim/2025-13.csv",
                            "medical_claim/claims_2025-02-30.csv", "medical_claim/old/2023-01.csv",
                            "medical_claim/.2024-05.csv.part", "medical_claims/2024-06.csv", "eligibility.xlsx",
                            "readme.md", "observations/"}
    assert reasons["medical_claim/2024-04.csv.bz2"] == (
        "medical_claim", "format .csv.bz2 is not read (read: .csv, .tsv, .psv, .txt (each also .gz, .zst), .parquet)")
    assert reasons["medical_claim/notes.txt"][1].startswith("a .txt file whose first line names no required column")
    assert reasons["medical_claim/2025-13.csv"][1].startswith("'2025-13' in the name is not a month")
    assert "is not a date" in reasons["medical_claim/claims_2025-02-30.csv"][1]
    assert reasons["medical_claims/2024-06.csv"] == (
        "medical_claim", "folder medical_claims/ is not a table (medical_claim, eligibility, observation, provider); "
                         "did you mean medical_claim/?")
    assert reasons["observations/"][0] == "observation"
    assert reasons["eligibility.xlsx"][0] == "eligibility"
    assert reasons["readme.md"][0] is None


def test_the_landing_check_warns_and_names_every_file_not_read(tmp_path, monkeypatch):
    landing = _landing_with_strays(tmp_path)
    monkeypatch.setenv("LANDING_DIR", str(landing))
    warehouse = WarehouseResource(data_dir=str(tmp_path / "data"))
    claims = _check(LANDING_CHECKS, "medical_claim", "landing_files_read")(warehouse=warehouse)
    assert not claims.passed and claims.severity == dg.AssetCheckSeverity.WARN
    assert claims.metadata["files_not_read"].value == 8  # 7 meant for medical_claim + readme.md (no table)
    assert claims.description.startswith("not read: medical_claim/.2024-05.csv.part (hidden file)")
    assert "medical_claims/2024-06.csv" in claims.metadata["not_read"].value
    eligibility = _check(LANDING_CHECKS, "eligibility", "landing_files_read")(warehouse=warehouse)
    assert "eligibility.xlsx (format .xlsx is not read" in eligibility.description
    assert _check(LANDING_CHECKS, "provider", "landing_files_read")(warehouse=warehouse).passed


def test_the_summary_lists_files_read_skipped_and_not_read(tmp_path):
    landing = _landing_with_strays(tmp_path)
    _write(landing / "medical_claim" / "2024-03-copy.csv", CLAIMS)
    with duckdb.connect() as con:
        load_delivery(con, "medical_claim", "2024-03", sorted((landing / "medical_claim").glob("2024-03*.csv")), landing)
        lines = landing_summary(con, landing)
    assert lines[0] == "Files read: medical_claim 1 (medical_claim/2024-03-copy.csv)"
    assert lines[1] == "Files skipped (1):"
    assert lines[2].startswith("  medical_claim/2024-03.csv: skipped_duplicate_file (same sha256 as ")
    assert lines[3] == "Files not read (10):"
    assert "  medical_claims/2024-06.csv: folder medical_claims/ is not a table" in "\n".join(lines)


def test_an_undated_file_never_outranks_a_dated_delivery(tmp_path):
    """Defect: `claims.csv` (delivery `claims`) sorted after every YYYY-MM, so its lines always won."""
    keys = [delivery_key(Path(n)) for n in ("claims.csv", "medical_claim.csv.gz", "2019-01.csv", "2025-03.parquet")]
    assert keys == ["0000-claims", "0000-medical_claim", "2019-01", "2025-03"]
    with duckdb.connect() as con:  # the order the warehouse ranks deliveries in (macros/claim_line_versions.sql)
        newest = con.execute("select max(k) from unnest(?) as t(k)", [keys]).fetchone()[0]
    assert newest == "2025-03"


@pytest.mark.parametrize("name", ["2025-13.csv", "claims_202513.csv", "2024-02-30.csv", "20240230.parquet"])
def test_a_name_whose_date_is_not_real_is_rejected(name):
    """Defect: `2025-13.csv` became delivery `2025-13`."""
    with pytest.raises(BadDeliveryName):
        delivery_key(Path(name))


@pytest.mark.parametrize(("name", "key"), [("2025-03.csv", "2025-03"), ("claims_2025_03.csv", "2025-03"),
                                           ("202503.csv", "2025-03"), ("2025-03-15.csv.zst", "2025-03"),
                                           ("extract_20250315.csv", "2025-03"), ("provider_2019.csv", "0000-provider_2019")])
def test_delivery_keys(name, key):
    assert delivery_key(Path(name)) == key


@pytest.fixture
def raw_warehouse(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        create_raw_tables(con)
        create_ledger(con)
    return tmp_path


def _deliveries(data_dir: Path, table: str, counts: dict[str, int], skipped: tuple[str, ...] = ()) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for delivery, n in counts.items():
            status = "skipped_duplicate_file" if delivery in skipped else "loaded"
            con.execute("insert into raw._deliveries (table_name, delivery, rows_read, rows_loaded, rows_quarantined, "
                        "status) values (?, ?, ?, ?, 0, ?)", [table, delivery, n, n, status])
            con.execute(f"insert into raw.{table} (_delivery) select ? from range(?)", [delivery, n])


def test_no_claims_is_a_blocking_failure_unless_overridden(raw_warehouse, monkeypatch):
    warehouse = WarehouseResource(data_dir=str(raw_warehouse))
    check = _check(REQUIRED_CHECKS, "medical_claim", "required_rows")
    result = check(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.description == "raw.medical_claim has no rows; set ALLOW_MISSING_REQUIRED_DATA=true to publish anyway"
    monkeypatch.setenv("ALLOW_MISSING_REQUIRED_DATA", "true")
    overridden = check(warehouse=warehouse)
    assert not overridden.passed and overridden.severity == dg.AssetCheckSeverity.WARN
    assert [c.check_keys for c in REQUIRED_CHECKS] == [
        {dg.AssetCheckKey(dg.AssetKey(["raw", t]), "required_rows")} for t in ("medical_claim", "eligibility", "observation")]


def test_empty_eligibility_or_observation_warns_without_blocking(raw_warehouse):
    warehouse = WarehouseResource(data_dir=str(raw_warehouse))
    for table in ("eligibility", "observation"):
        result = _check(REQUIRED_CHECKS, table, "required_rows")(warehouse=warehouse)
        assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
        assert result.description == f"raw.{table} has no rows"


def test_a_delivery_that_drops_by_more_than_the_share_warns_and_blocks_when_asked(raw_warehouse, monkeypatch):
    warehouse = WarehouseResource(data_dir=str(raw_warehouse))
    check = _check(REQUIRED_CHECKS, "observation", "required_rows")
    _deliveries(raw_warehouse, "observation", {"0000-observation": 50, "2024-01": 100, "2024-02": 40})
    warned = check(warehouse=warehouse)
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert "delivery 2024-02 loaded 40 rows, 60% fewer than delivery 2024-01 (100)" in warned.description
    monkeypatch.setenv("DELIVERY_DROP_BLOCKS", "true")
    result = check(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.description.endswith("set ALLOW_MISSING_REQUIRED_DATA=true to publish anyway")
    monkeypatch.setenv("DELIVERY_DROP_MAX_SHARE", "0.7")
    assert check(warehouse=warehouse).passed
    monkeypatch.setenv("DELIVERY_DROP_MAX_SHARE", "0.5")
    _deliveries(raw_warehouse, "observation", {"2024-03": 100}, skipped=("2024-03",))  # a re-sent file: no new data
    assert not check(warehouse=warehouse).passed
    _deliveries(raw_warehouse, "observation", {"2024-04": 60})
    assert check(warehouse=warehouse).passed


def test_required_data_settings_come_from_the_environment():
    settings = load_settings({"ALLOW_MISSING_REQUIRED_DATA": "true", "DELIVERY_DROP_MAX_SHARE": "0.25",
                              "DELIVERY_DROP_BLOCKS": "true", "LOCK_WAIT_SECONDS": "30"})
    assert (settings.allow_missing_required_data, settings.delivery_drop_max_share, settings.delivery_drop_blocks,
            settings.lock_wait_seconds) == (True, 0.25, True, 30.0)
    defaults = load_settings({})
    assert (defaults.allow_missing_required_data, defaults.delivery_drop_max_share, defaults.delivery_drop_blocks,
            defaults.lock_wait_seconds) == (False, 0.5, False, 0.0)


@pytest.mark.slow
def test_an_empty_claims_folder_publishes_nothing(tmp_path, monkeypatch, capsys):
    """Defect: an empty medical_claim/ folder (here: the files sit in a misspelled one) exited 0 and published
    ten tables with 0 rows."""
    landing, data = tmp_path / "landing", tmp_path / "data"
    (landing / "medical_claim").mkdir(parents=True)
    _write(landing / "medical_claims" / "2024-03.csv", CLAIMS)
    _write(landing / "eligibility" / "2024-03.csv", "person_id,birth_date\nP1,1950-01-01\n")
    _write(landing / "observation" / "2024-03.csv",
           "person_id,observation_date,source_code,result\nP1,2024-03-01,72514-3,7\n")
    for name, value in {"DATA_DIR": str(data), "LANDING_DIR": str(landing), "AS_OF_DATE": "",
                        "DAGSTER_HOME": str(data / "dagster_home"), "WAREHOUSE_PATH": str(data / "warehouse.duckdb"),
                        "DUCKDB_MEMORY_LIMIT": "4GB"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    prepare_dagster_home(settings)
    monkeypatch.setattr(orchestration.definitions, "defs", definitions_for(settings))

    assert run_pipeline(settings) == 2

    err = capsys.readouterr().err
    assert "medical_claims/2024-03.csv: folder medical_claims/ is not a table" in err
    assert ("raw/medical_claim:required_rows (raw.medical_claim has no rows; 1 file(s) under LANDING_DIR seem meant "
            "for medical_claim but were not read, e.g. medical_claims/2024-03.csv") in err
    assert not (data / "current").exists() and not (data / "publications").exists()
