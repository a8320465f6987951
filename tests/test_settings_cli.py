"""The configuration surface and the command line: every setting validated at start with a one-line error and
exit 2, environment over settings file over default, `config` naming each value's source, `--help` covering
every subcommand, setting and exit code, and the operator's case export refusing the publication folder."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.run import COMMANDS
from orchestration.settings import CONFIG_ENV, SETTINGS, SettingError, load_settings

# setting -> a value it must refuse ({file}: the path of an existing file, where a folder is expected)
BAD_VALUES = {
    "DATA_DIR": "{file}",
    "LANDING_DIR": "{file}",
    "AS_OF_DATE": "2018-31-12",
    "MEASURE_220_TINS": "12-34567,987654321",
    "RISK_MODEL_VERSION": "v2",
    "LOG_LEVEL": "chatty",
    "DUCKDB_MEMORY_LIMIT": "lots",
    "DUCKDB_THREADS": "0",
    "DBT_THREADS": "0",
    "WORKLIST_EXPORT_DIR": "exports",
    "LOCK_WAIT_SECONDS": "-1",
    "ALLOW_MISSING_REQUIRED_DATA": "maybe",
    "DELIVERY_DROP_MAX_SHARE": "1.5",
    "WAREHOUSE": "oracle",
    "SPARK_MASTER": "localhost:7077",
    "SPARK_REMOTE": "http://spark:15002",
    "SPARK_WAREHOUSE_DIR": "{file}",
    "SPARK_METASTORE_URI": "metastore:9083",
    "SPARK_THRIFT": "thrift-server",
    "SPARK_DRIVER_MEMORY": "lots",
    "SPARK_SHUFFLE_PARTITIONS": "0",
    "DATA_DOCS_PORT": "http",
    "DELIVERY_DROP_BLOCKS": "sometimes",
    "LANDING_SENSOR_INTERVAL_SECONDS": "0",
}


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real entry point (`spine-pipeline`) in a child process, with a clean settings environment."""
    base = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS} and k != CONFIG_ENV}
    return subprocess.run([sys.executable, "-m", "orchestration.run", *args], env={**base, **(env or {})},
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_every_setting_has_a_row_with_a_bad_value_under_test():
    assert {s.name for s in SETTINGS} == set(BAD_VALUES)


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_a_bad_value_is_one_line_naming_setting_value_and_what_is_accepted_exit_2(name, tmp_path):
    setting = next(s for s in SETTINGS if s.name == name)
    (tmp_path / "a_file").write_text("")
    bad = BAD_VALUES[name].format(file=tmp_path / "a_file")
    result = cli("config", env={"DATA_DIR": str(tmp_path), name: bad})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and bad in lines[0] and setting.accepted in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", ["run", "demo", "export-cases out.csv"])
def test_a_malformed_as_of_date_stops_every_command_before_it_starts(command, tmp_path):
    result = cli(*command.split(), env={"DATA_DIR": str(tmp_path), "AS_OF_DATE": "31/12/2018"})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "AS_OF_DATE" in result.stderr and "YYYY-MM-DD" in result.stderr
    assert not (tmp_path / "dagster_home").exists() and not (tmp_path / "sample").exists()


@pytest.mark.parametrize("suffix,text", [
    (".toml", 'AS_OF_DATE = 2018-12-31\nMEASURE_220_TINS = ["12-3456789", "987654321"]\nDUCKDB_THREADS = 3\n'
              'LANDING_DIR = "landing"\n'),
    (".yaml", 'AS_OF_DATE: 2018-12-31\nMEASURE_220_TINS: "12-3456789, 987654321"\nDUCKDB_THREADS: 3\n'
              'landing_dir: landing\n'),
])
def test_settings_file_toml_or_yaml_same_names_environment_wins(suffix, text, tmp_path):
    config = tmp_path / f"settings{suffix}"
    config.write_text(text)
    settings = load_settings({"DUCKDB_THREADS": "1", "LOG_LEVEL": ""}, config)
    assert settings.as_of_date.isoformat() == "2018-12-31"
    assert settings.measure_220_tins == ("123456789", "987654321")
    assert settings.duckdb_threads == 1 and settings.sources["DUCKDB_THREADS"] == "env"
    assert settings.landing_dir == tmp_path / "landing"  # relative to the settings file
    assert settings.sources["AS_OF_DATE"] == f"file {config}"
    assert settings.sources["LOG_LEVEL"] == "default" and settings.log_level == "WARNING"
    assert settings.dbt_vars() == {"measure_220_tins_in_scope": ["123456789", "987654321"]}
    assert settings.environment() == {"AS_OF_DATE": "2018-12-31", "MEASURE_220_TINS": "123456789,987654321",
                                      "DUCKDB_THREADS": "1", "LANDING_DIR": str(tmp_path / "landing")}


def test_tin_file_with_comments_blanks_and_hyphens(tmp_path):
    (tmp_path / "tins.txt").write_text("# TINs reporting measure 220\n\n12-3456789  # main clinic\n 987 654 321\n")
    settings = load_settings({"MEASURE_220_TINS": f"@{tmp_path / 'tins.txt'}"})
    assert settings.measure_220_tins == ("123456789", "987654321")
    (tmp_path / "empty.txt").write_text("# none yet\n")
    with pytest.raises(SettingError, match="no TIN listed"):
        load_settings({"MEASURE_220_TINS": f"@{tmp_path / 'empty.txt'}"})


@pytest.mark.parametrize("text,message", [
    ("NOT_A_SETTING = 1\n", "unknown setting NOT_A_SETTING"),
    ("AS_OF_DATE = [\n", "is not valid TOML"),
    ("DUCKDB_THREADS = true\n", "DUCKDB_THREADS"),
])
def test_a_bad_settings_file_is_one_line_and_exit_2(text, message, tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text(text)
    result = cli("--config", str(config), "config", env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_config_prints_every_setting_with_its_source(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("LOG_LEVEL: info\nAS_OF_DATE: '2018-12-31'\n")
    result = cli("config", "--config", str(config), env={"DATA_DIR": str(tmp_path), "AS_OF_DATE": "2019-06-30"})
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(rows) == {s.name for s in SETTINGS}
    assert "2019-06-30" in rows["AS_OF_DATE"] and rows["AS_OF_DATE"].endswith("(env)")
    assert "INFO" in rows["LOG_LEVEL"] and rows["LOG_LEVEL"].endswith(f"(file {config})")
    assert rows["DUCKDB_THREADS"].endswith("(default)") and str(tmp_path) in rows["DATA_DIR"]


def test_help_documents_every_subcommand_setting_and_exit_code():
    result = cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command.name in result.stdout
    for setting in SETTINGS:
        assert setting.name in result.stdout and setting.accepted.split(",")[0] in result.stdout
    for code in ("0  success", "1  a step failed", "2  bad input"):
        assert code in result.stdout
    for command in COMMANDS:
        sub = cli(command.name, "--help")
        assert sub.returncode == 0 and "--config" in sub.stdout and "exit codes" in sub.stdout


def test_a_missing_landing_folder_is_a_bad_setting(tmp_path):
    result = cli("run", env={"DATA_DIR": str(tmp_path), "LANDING_DIR": str(tmp_path / "nowhere")})
    assert result.returncode == 2 and "LANDING_DIR" in result.stderr and "does not exist" in result.stderr


@pytest.fixture
def warehouse_with_cases(tmp_path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.measure_cases as select * from (values
            ('c1', 'p1', '459', 'lumbarDiscectomy', date '2024-01-10', 'met', 'G2136', 'post-op at most 3', 2024),
            ('c2', 'p2', '220', 'overall', date '2024-02-01', 'not_met', 'G8660', 'residual below zero', 2024),
            ('c3', 'p3', '220', 'overall', date '2024-03-01', 'pending', null, 'episode still open', 2024))
            as t(case_id, person_id, measure_id, stratum, index_date, status, qdc_code, reason, performance_year)""")
    (data / "published_versions" / "v1").mkdir(parents=True)
    (data / "published").symlink_to(data / "published_versions" / "v1")
    return data


def test_export_cases_writes_the_case_table_of_one_measure(warehouse_with_cases, tmp_path):
    out = tmp_path / "exports" / "cases_220.csv"
    out.parent.mkdir()  # an export never creates folders (a mistyped path is refused: test_follow_up_worklist_export)
    result = cli("export-cases", str(out), "--measure", "220", env={"DATA_DIR": str(warehouse_with_cases)})
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["person_id"] for r in rows] == ["p2", "p3"]
    assert {"person_id", "measure_id", "stratum", "index_date", "status", "qdc_code", "reason"} <= set(rows[0])
    assert "2 cases" in result.stdout and "person identifiers" in result.stdout
    every = tmp_path / "all.csv"
    assert cli("export-cases", str(every), env={"DATA_DIR": str(warehouse_with_cases)}).returncode == 0
    assert len(list(csv.DictReader(every.open()))) == 3


@pytest.mark.parametrize("target", ["published/cases.csv", "published_versions/v1/cases.csv",
                                    "qpp_submissions/cases.csv", "warehouse.duckdb"])
def test_export_cases_never_writes_into_the_publication(warehouse_with_cases, target):
    out = warehouse_with_cases / target
    result = cli("export-cases", str(out), env={"DATA_DIR": str(warehouse_with_cases)})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() or target == "warehouse.duckdb"


def test_export_cases_of_an_unknown_measure_or_without_a_warehouse(warehouse_with_cases, tmp_path):
    unknown = cli("export-cases", str(tmp_path / "x.csv"), "--measure", "999",
                  env={"DATA_DIR": str(warehouse_with_cases)})
    assert unknown.returncode == 2 and "459" in unknown.stderr and "220" in unknown.stderr
    empty = cli("export-cases", str(tmp_path / "x.csv"), env={"DATA_DIR": str(tmp_path / "fresh")})
    assert empty.returncode == 1 and "run the pipeline first" in empty.stderr


def test_a_pinned_risk_model_version_must_exist_and_excludes_refit(tmp_path):
    (tmp_path / "landing").mkdir()
    env = {"DATA_DIR": str(tmp_path / "data"), "LANDING_DIR": str(tmp_path / "landing"), "RISK_MODEL_VERSION": "3"}
    missing = cli("run", env=env)
    assert missing.returncode == 2 and "RISK_MODEL_VERSION=3" in missing.stderr and "none yet" in missing.stderr
    both = cli("run", "--refit", env=env)
    assert both.returncode == 2 and "--refit" in both.stderr
