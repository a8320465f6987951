"""What a new user tripped over in the newcomer's audit (session 7), one test per defect, each seen failing first:

- a CSV header as spreadsheets and EHR exports write it: a trailing comma (an unnamed last column), a column
  named twice, classic-Mac CR-only line ends, and a compressed file or a file of blank lines with no header at
  all: each either loads (the odd column reported, not loaded) or fails the load with one line naming the file
  and the problem, never with DuckDB's binder error or Python's csv error;
- the run summary names the as-of date and warns when the default one is in the future (a typo such as 2099: the
  date itself is not capped at today, so that the figures never depend on the machine's clock);
- a port number beyond 65535 is refused like any other invalid setting;
- a warning check that fails says why on the console, not only its name.
"""

from __future__ import annotations

import gzip
import io
import logging
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.ingest.discovery import delivery_key
from orchestration.ingest.loader import load_delivery
from orchestration.ingest.reader import FileContractError
from orchestration.progress import ProgressPrinter
from orchestration.resources import resolve_as_of_date
from orchestration.settings import SettingError, load_settings

HEADER = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,paid_amount"
LINE = "C1,1,P1,2024-03-01,63030,M51.16,10.00"


def _load(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / "medical_claim" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    con = duckdb.connect()
    return con, load_delivery(con, "medical_claim", delivery_key(path), [path], tmp_path)


def test_a_trailing_comma_on_every_line_loads_and_reports_the_unnamed_column(tmp_path):
    con, report = _load(tmp_path, "2024-03.csv", f"{HEADER},\n{LINE},\nC2,1,P2,2024-03-02,63030,M51.16,1,\n".encode())
    assert (report.read, report.loaded, report.quarantined) == (2, 2, 0)
    assert report.files[0].extra_columns == ["(unnamed column 8)"]
    assert con.execute("select count(*) from raw.medical_claim where paid_amount is not null").fetchone()[0] == 2


def test_an_extra_column_named_twice_loads_and_is_reported_twice(tmp_path):
    con, report = _load(tmp_path, "2024-03.csv", f"{HEADER},note,NOTE\n{LINE},a,b\n".encode())
    assert (report.read, report.loaded) == (1, 1)
    assert len(report.files[0].extra_columns) == 2


def test_a_contract_column_named_twice_fails_naming_it_and_the_file(tmp_path):
    with pytest.raises(FileContractError) as failure:
        _load(tmp_path, "2024-03.csv", f"{HEADER},Person_ID\n{LINE},P9\n".encode())
    message = str(failure.value)
    assert "2024-03.csv" in message and "person_id" in message and "twice" in message
    assert "Binder" not in message and len(message.splitlines()) == 1


def test_cr_only_line_ends_fail_naming_the_file_and_the_line_ends(tmp_path):
    with pytest.raises(FileContractError) as failure:
        _load(tmp_path, "2024-03.csv", f"{HEADER}\r{LINE}\r".encode())
    message = str(failure.value)
    assert "2024-03.csv" in message and "carriage return" in message


@pytest.mark.parametrize("name, data", [("2024-03.csv.gz", gzip.compress(b"", mtime=0)), ("2024-03.csv", b"\n\n"),
                                        ("2024-03.csv", b"\xef\xbb\xbf")], ids=["empty gzip", "blank lines", "BOM"])
def test_a_file_without_a_header_is_skipped_as_empty(tmp_path, name, data):
    con, report = _load(tmp_path, name, data)
    assert report.files[0].status == "skipped_empty_file" and report.read == 0
    assert "no header" in report.files[0].detail


def test_the_default_as_of_date_is_the_latest_date_loaded_even_in_the_future(tmp_path):
    """Not capped at today: the same data give the same figures whatever the machine's clock says (the run summary
    warns about a future date instead)."""
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.medical_claim (claim_line_start_date date, claim_start_date date)")
    con.execute("create table raw.observation (observation_date date)")
    con.execute("insert into raw.medical_claim values ('2024-03-01', '2024-03-01'), (null, '2099-03-01')")
    con.execute("insert into raw.observation values ('2024-05-01')")
    settings = load_settings(env={"DATA_DIR": str(tmp_path)})
    assert resolve_as_of_date(con, settings) == "2099-03-01"
    con.execute("delete from raw.medical_claim where claim_start_date > current_date")
    assert resolve_as_of_date(con, settings) == "2024-05-01"
    explicit = load_settings(env={"DATA_DIR": str(tmp_path), "AS_OF_DATE": "2099-12-31"})
    assert resolve_as_of_date(con, explicit) == "2099-12-31"  # an explicit date is the user's to choose


@pytest.mark.parametrize("port", ["65536", "70000"])
def test_a_port_beyond_65535_is_refused(tmp_path, port):
    with pytest.raises(SettingError, match="DATA_DOCS_PORT"):
        load_settings(env={"DATA_DIR": str(tmp_path), "DATA_DOCS_PORT": port})
    assert load_settings(env={"DATA_DIR": str(tmp_path), "DATA_DOCS_PORT": "65535"}).data_docs_port == 65535


def test_a_failed_warning_check_says_why(monkeypatch):
    out = io.StringIO()
    printer = ProgressPrinter(out, check_steps=set(), heartbeat=3600)
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("stg_medical_claim"), check_name="gx_stg_medical_claim", passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description="place_of_service_code is in the CMS place of service seed.")
    event = type("Event", (), {"event_type": dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                               "event_specific_data": evaluation})()
    record = logging.LogRecord("x", logging.INFO, "", 0, "", None, None)
    record.dagster_meta = {"step_key": "stg_medical_claim_gx", "dagster_event": event}
    printer.emit(record)
    printer.close()
    line = out.getvalue()
    assert "gx_stg_medical_claim failed (warning): place_of_service_code is in the CMS place of service seed." in line


def test_a_parquet_file_cut_short_fails_naming_the_file(tmp_path):
    with pytest.raises(FileContractError) as failure:
        _load(tmp_path, "2024-03.parquet", b"PAR1 an upload cut short")
    message = str(failure.value)
    assert "2024-03.parquet" in message and "cannot be read as Parquet" in message
    assert len(message.splitlines()) == 1


def _worklist_warehouse(data_dir: Path) -> None:
    from orchestration.exports.worklist import COLUMNS

    data_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("create schema marts; create schema reference")
        con.execute(f"create table marts.follow_up_worklist ({', '.join(f'{c} varchar' for c in COLUMNS)})")
        con.execute("alter table marts.follow_up_worklist alter as_of_date type date")
        con.execute("alter table marts.follow_up_worklist alter days_left type integer")
        con.execute("insert into marts.follow_up_worklist (measure_id, tin, person_id, status, days_left, case_id, "
                    "as_of_date) values ('459', '123456789', 'P1', 'due_now', 3, 'c1', '2025-12-31')")
        con.execute("create table reference.follow_up_worklist_parameters as select 'missed' as status_missed")


def test_worklist_tin_written_with_a_hyphen_is_matched_and_a_malformed_one_refused(tmp_path, capsys):
    """A TIN is often written 12-3456789 (MEASURE_220_TINS accepts it): --tin wrote 0 rows for it, exit 0."""
    from orchestration.exports.worklist import run

    _worklist_warehouse(tmp_path / "data")
    settings = load_settings(env={"DATA_DIR": str(tmp_path / "data")})
    out = tmp_path / "worklist.csv"
    assert run(settings, str(out), "12-3456789", None) == 0
    assert len(out.read_text().splitlines()) == 2  # the header and the one case
    assert run(settings, str(out), "12345", None) == 2
    assert "--tin" in capsys.readouterr().err
    # a well-formed TIN without any case on the worklist writes the header only and says which TINs have cases
    assert run(settings, str(out), "987654321", None) == 0
    assert "TIN 987654321 has no case on the worklist (TINs with cases: 123456789)" in capsys.readouterr().out


def _dated_warehouse(claim_dates: list[str], observation_dates: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.medical_claim (claim_line_start_date date, claim_start_date date)")
    con.execute("create table raw.observation (observation_date date)")
    con.executemany("insert into raw.medical_claim values (null, ?)", [[d] for d in claim_dates])
    con.executemany("insert into raw.observation values (?)", [[d] for d in observation_dates])
    return con


def test_the_summary_says_which_as_of_date_and_warns_when_it_is_before_every_date(tmp_path):
    """AS_OF_DATE=2010-01-01 on data of 2016-2018 published empty code and measure tables with exit 0 and no word
    about it; the summary did not say which as-of date its figures were for at all."""
    from orchestration.run import as_of_lines

    con = _dated_warehouse(["2016-03-01", "2018-11-30"], ["2017-01-05"])
    before = as_of_lines(con, load_settings(env={"DATA_DIR": str(tmp_path), "AS_OF_DATE": "2010-01-01"}))
    assert before[0] == "As of 2010-01-01 (AS_OF_DATE); the data loaded are dated 2016-03-01 to 2018-11-30."
    assert "before every date loaded" in before[1] and "Set AS_OF_DATE between 2016-03-01 and 2018-11-30" in before[1]
    within = as_of_lines(con, load_settings(env={"DATA_DIR": str(tmp_path), "AS_OF_DATE": "2017-06-30"}))
    assert within[1] == "  1 claim lines and observations dated after it are left out."
    default = as_of_lines(con, load_settings(env={"DATA_DIR": str(tmp_path)}))
    assert default == ["As of 2018-11-30 (the latest date loaded); the data loaded are dated 2016-03-01 to 2018-11-30."]
    con.execute("insert into raw.medical_claim values (null, '2099-03-01')")
    future = as_of_lines(con, load_settings(env={"DATA_DIR": str(tmp_path)}))
    assert future[0] == "As of 2099-03-01 (the latest date loaded); the data loaded are dated 2016-03-01 to 2099-03-01."
    assert future[1].startswith(f"  Warning: the latest date loaded is after today ({date.today()})")
    assert "AS_OF_DATE" in future[1] and len(future) == 2


def test_a_tin_file_saved_by_notepad_is_read(tmp_path):
    """Windows Notepad saves UTF-8 with a byte-order mark and CRLF line ends: the first TIN was refused as
    '\\ufeff123456789' (an invisible character in the message)."""
    (tmp_path / "tins.txt").write_bytes(b"\xef\xbb\xbf123456789\r\n98-7654321\r\n")
    settings = load_settings(env={"DATA_DIR": str(tmp_path), "MEASURE_220_TINS": f"@{tmp_path / 'tins.txt'}"})
    assert settings.measure_220_tins == ("123456789", "987654321")


@pytest.mark.parametrize("name, text", [("settings.toml", 'AS_OF_DATE = "2018-12-31"\r\n'),
                                        ("settings.yaml", "AS_OF_DATE: 2018-12-31\r\n")])
def test_a_settings_file_saved_by_notepad_is_read(tmp_path, name, text):
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
    settings = load_settings(env={"DATA_DIR": str(tmp_path)}, config_file=tmp_path / name)
    assert settings.as_of_date == date(2018, 12, 31)


def test_a_tin_written_as_a_yaml_number_is_refused_with_the_reason(tmp_path):
    """YAML reads `- 012345670` as the octal number 2739128: the message named '2739128', a value the user never
    wrote; it now says to quote TINs."""
    (tmp_path / "settings.yaml").write_text("MEASURE_220_TINS:\n  - 012345670\n")
    with pytest.raises(SettingError, match="write TINs in quotes"):
        load_settings(env={"DATA_DIR": str(tmp_path)}, config_file=tmp_path / "settings.yaml")
    (tmp_path / "settings.yaml").write_text("MEASURE_220_TINS:\n  - '012345670'\n  - 123456789\n")
    settings = load_settings(env={"DATA_DIR": str(tmp_path)}, config_file=tmp_path / "settings.yaml")
    assert settings.measure_220_tins == ("012345670", "123456789")


def test_ctrl_c_between_the_jobs_says_interrupted_and_frees_the_data_dir(one_delivery_settings, monkeypatch,
                                                                          capsys):
    """A Ctrl-C that lands outside a Dagster run (between the ingest and refresh jobs, or while the summary prints)
    showed Python's traceback; inside a run Dagster ends the run and the run says it was interrupted."""
    from orchestration import run
    from orchestration.data_dir_lock import data_dir_lock

    settings = one_delivery_settings
    monkeypatch.setattr(run, "import_in_background", lambda modules: None)
    done = type("Result", (), {"success": True, "all_events": [], "get_asset_check_evaluations": lambda self: []})()

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    def run_pipeline() -> int:
        try:
            return run.run_pipeline(settings)
        except KeyboardInterrupt:  # escaping would end pytest's own session
            pytest.fail("the interrupt escaped run_pipeline (a traceback for the user)")

    monkeypatch.setattr(run, "_execute", interrupted)
    assert run_pipeline() == run.EXIT_FAILED
    assert run.INTERRUPTED in capsys.readouterr().err
    with data_dir_lock(settings.data_dir, 0):  # released: DataDirBusy otherwise
        pass

    monkeypatch.setattr(run, "_execute", lambda *a, **k: done)
    monkeypatch.setattr(run, "print_summary", interrupted)
    assert run_pipeline() == run.EXIT_OK
    err = capsys.readouterr().err
    assert "the run finished and its publication is in place" in err and run.INTERRUPTED not in err


def test_a_list_in_a_settings_file_is_refused_where_one_value_is_expected(tmp_path):
    """`AS_OF_DATE: [2018-12-31]` (YAML) was taken for its one item; a list stays right for MEASURE_220_TINS."""
    (tmp_path / "listed.yaml").write_text("AS_OF_DATE: [2018-12-31]\n")
    with pytest.raises(SettingError, match=r"AS_OF_DATE=.* is not valid; expected a date YYYY-MM-DD"):
        load_settings(env={"DATA_DIR": str(tmp_path)}, config_file=tmp_path / "listed.yaml")
    (tmp_path / "tins.yaml").write_text('MEASURE_220_TINS: ["123456789", "98-7654321"]\n')
    settings = load_settings(env={"DATA_DIR": str(tmp_path)}, config_file=tmp_path / "tins.yaml")
    assert settings.measure_220_tins == ("123456789", "987654321")
