"""Fixed costs of a run (docs/performance.md, "Fixed costs"): how many dbt invocations and Dagster steps the jobs
plan, that dbt runs in the pipeline's process on one parse, and the SQLite settings of the Dagster instance's event
log. A change that adds a dbt invocation to a refit (e.g. a Python asset upstream of some dbt models again), starts
dbt in a process of its own again or parses the project per invocation fails here, not only in a benchmark."""

import json
import os
import sqlite3
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan

from orchestration import dagster_sqlite
from orchestration.assets import code_labels
from orchestration.assets.dbt_models import LABEL_READERS, dbt_models

# The most each job may plan. A refit splits the dbt build around the Python fit (two dbt invocations); a refresh
# is one. Steps: dbt, the fit, publication and the checks that are steps of their own.
DBT_INVOCATIONS = {"refresh_job": 1, "refit_job": 2}
STEPS = {"ingest_job": 24, "refresh_job": 12, "refit_job": 14}


def _plan_steps(job_name: str) -> list[str]:
    from orchestration.definitions import defs

    plan = create_execution_plan(defs.resolve_job_def(job_name))
    return [step.key for step in plan.get_steps_to_execute_in_topo_order()]


@pytest.mark.parametrize("job_name", sorted(DBT_INVOCATIONS))
def test_dbt_runs_at_most_n_times_per_job(job_name):
    dbt_steps = [k for k in _plan_steps(job_name) if k.split("[")[0].startswith(dbt_models.op.name)]
    assert 1 <= len(dbt_steps) <= DBT_INVOCATIONS[job_name], dbt_steps


@pytest.mark.parametrize("job_name", sorted(STEPS))
def test_steps_per_job_do_not_grow(job_name):
    steps = _plan_steps(job_name)
    assert len(steps) <= STEPS[job_name], steps


def test_refit_builds_the_label_readers_before_the_fit_in_the_step_that_writes_the_labels():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("refit_job")
    fit = dg.AssetKey(["risk_model", "coefficients"])
    by_step: dict[str, set] = {}
    for key in job.asset_layer.executable_asset_keys:
        by_step.setdefault(job.asset_layer.get_op_output_handle(key).node_handle.name, set()).add(key)
    readers_step = next(step for step, keys in by_step.items() if keys & LABEL_READERS)
    assert LABEL_READERS <= by_step[readers_step]
    assert fit not in by_step[readers_step]
    # the labels are not an asset step of their own any more: external in the graph, written by the dbt step
    assert not any(keys & code_labels.KEYS for keys in by_step.values())


def test_event_log_connections_use_normal_sync_and_keep_the_file_open(tmp_path):
    dagster_sqlite.install()
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    path = tmp_path / "events.db"
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.connect() as con:
        con.execute(text("pragma journal_mode = wal"))
        assert con.execute(text("pragma synchronous")).scalar() == 1  # NORMAL
        con.execute(text("create table t (x integer)"))
        con.commit()
    engine.dispose()
    with engine.connect() as con:
        con.execute(text("insert into t values (1)"))
        con.commit()
    engine.dispose()
    # the per-event connection closed without checkpointing: the WAL is still there, and the row readable
    assert (tmp_path / "events.db-wal").exists()
    assert sqlite3.connect(path).execute("select count(*) from t").fetchone()[0] == 1
    assert str(path) in dagster_sqlite._keepers


def test_the_event_log_keeps_one_engine_per_run_and_a_wiped_storage_starts_afresh(tmp_path):
    """Dagster's SQLite event log built an engine and opened a connection per stored event; with
    dagster_sqlite.install() a run's events go through one engine, and wiping the storage (its files deleted)
    gives the next run a new one, so no event is written to a deleted file."""
    dagster_sqlite.install()

    @dg.asset
    def one():
        return 1

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    storage = instance.event_log_storage
    first = dg.materialize([one], instance=instance)
    engines = dict(storage._spine_engines)
    assert first.run_id in engines and len(instance.all_logs(first.run_id)) > 10
    second = dg.materialize([one], instance=instance)
    assert storage._spine_engines["index"] is engines["index"]  # the same engine for every event of both runs
    instance.wipe()
    third = dg.materialize([one], instance=instance)
    assert storage._spine_engines["index"] is not engines["index"]
    assert instance.get_latest_materialization_event(dg.AssetKey("one")).run_id == third.run_id != second.run_id
    assert len(storage._spine_engines) <= dagster_sqlite.KEPT_ENGINES


def _dbt_invocations(target: Path) -> list[dict]:
    """dbt's own log (JSON lines, rotated): each invocation's command and the processes it ran in."""
    found: dict[str, dict] = {}
    for path in sorted(target.glob("dbt.log*")):
        for line in path.read_text().splitlines():
            info = json.loads(line)["info"]
            entry = found.setdefault(info["invocation_id"], {"ts": info["ts"], "pids": set(), "command": None})
            entry["pids"].add(info["pid"])
            if info["name"] == "ResourceReport":
                entry["command"] = json.loads(line)["data"]["command_name"]
    return sorted(found.values(), key=lambda e: e["ts"])


def test_a_real_refit_parses_once_and_runs_dbt_in_the_pipelines_process(pipeline_run):
    """The end-to-end run (ingestion, then a refit): dbt parses the project once and runs the refit's two builds on
    that manifest, all inside the pipeline's process (here the test's): no dbt process started, no second parse."""
    invocations = _dbt_invocations(pipeline_run.settings.data_dir / "dbt_target")
    assert [i["command"] for i in invocations] == ["parse", "build", "build"], invocations
    assert all(i["pids"] == {os.getpid()} for i in invocations), invocations


def test_a_real_refit_runs_dbt_twice_and_records_row_counts_schemas_and_labels(pipeline_run):
    """The end-to-end run (a first run: a refit): two dbt steps; every table model's materialization carries its
    row count and column schema (read after dbt exits in two queries, not model by model through a dbt adapter);
    the code labels are materialized by the dbt step."""
    import duckdb
    from dagster._core.instance.ref import InstanceRef

    settings = pipeline_run.settings
    assert pipeline_run.exit_code == 0
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.data_dir / "dagster_home")))
    refit = next(r for r in instance.get_runs() if r.job_name == "refit_job")
    started = [e.step_key for e in instance.all_logs(refit.run_id, of_type=dg.DagsterEventType.STEP_START)]
    assert len([s for s in started if s.startswith("dbt_models")]) == 2, started
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cases = con.execute("select count(*) from marts.measure_cases").fetchone()[0]
        labels = con.execute("select count(*) from labels.icd10_cm").fetchone()[0]
    metadata = instance.get_latest_materialization_event(dg.AssetKey("measure_cases")).asset_materialization.metadata
    assert metadata["dagster/row_count"].value == cases > 0
    assert {"case_id", "status", "measure_id"} <= {c.name for c in metadata["dagster/column_schema"].value.columns}
    view = instance.get_latest_materialization_event(dg.AssetKey("stg_medical_claim")).asset_materialization
    assert "dagster/row_count" not in view.metadata and "dagster/column_schema" in view.metadata  # a view: not run
    label = instance.get_latest_materialization_event(dg.AssetKey(["labels", "icd10_cm"])).asset_materialization
    assert label.metadata["dagster/row_count"].value == labels > 0


def test_a_new_warehouse_reads_the_icd10_cm_list_from_the_cache_of_the_package_version(tmp_path, monkeypatch):
    """The ICD-10-CM list (labels, billable codes) comes from parsing the package's XML (~3 CPU s): the first
    warehouse that needs it caches it per package version; the next one reads the cache (the same labels and
    billable codes) without importing the package; an unreadable cache is rebuilt from the package."""
    import sys

    import duckdb

    from orchestration import icd10_cm
    from orchestration.quality.parameters import billable_icd10_cm_codes

    monkeypatch.setattr(icd10_cm, "CACHE_DIR", tmp_path / "cache")
    with duckdb.connect(str(tmp_path / "first.duckdb")) as first:
        rows = code_labels.write_icd10_cm(first)
        expected = first.execute("select * from labels.icd10_cm order by all").fetchall()
    billable = billable_icd10_cm_codes()
    [cached] = (tmp_path / "cache").glob("icd10_cm-*.parquet")
    monkeypatch.setitem(sys.modules, "simple_icd_10_cm", None)  # importing it would now fail
    with duckdb.connect(str(tmp_path / "second.duckdb")) as second:
        assert code_labels.write_icd10_cm(second) == rows > 70_000
        assert second.execute("select * from labels.icd10_cm order by all").fetchall() == expected
    assert billable_icd10_cm_codes().equals(billable) and 0 < len(billable) < rows
    assert {"M5416", "M545"} - set(billable.code) == {"M545"}  # M54.5 has children (M54.50 ...): not billable
    monkeypatch.delitem(sys.modules, "simple_icd_10_cm")
    cached.write_bytes(b"not parquet")
    with duckdb.connect(str(tmp_path / "third.duckdb")) as third:
        assert code_labels.write_icd10_cm(third) == rows
    assert cached.read_bytes()[:4] == b"PAR1"


def test_in_process_dbt_parses_once_per_process_until_a_project_file_changes(tmp_path, monkeypatch):
    """orchestration/dbt_in_process.py: builds reuse the process's parsed manifest; a changed model file is parsed
    again (and built as changed); an invocation with --vars parses for itself."""
    import duckdb

    from orchestration import dbt_in_process
    from orchestration.settings import load_settings

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n")
    (project / "profiles.yml").write_text(
        "tiny:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        "      path: \"{{ env_var('WAREHOUSE_PATH') }}\"\n      threads: 1\n")
    model = project / "models" / "answer.sql"
    model.write_text("select 41 as answer")
    for name in ("WAREHOUSE_PATH", "DUCKDB_MEMORY_LIMIT", "DBT_TARGET"):  # set by the run, restored after the test
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    settings.data_dir.mkdir()
    target = tmp_path / "target"

    def build(*extra: str) -> int:
        dbt_in_process.run_dbt(settings, ["build", *extra], target, project_dir=project)
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute("select answer from answer").fetchone()[0]

    parses = dbt_in_process.PARSES
    assert build() == 41 and dbt_in_process.PARSES == parses + 1
    assert build() == 41 and dbt_in_process.PARSES == parses + 1  # the same manifest
    model.write_text("select 42 as answer")
    os.utime(model, (model.stat().st_atime, model.stat().st_mtime + 5))
    assert build() == 42 and dbt_in_process.PARSES == parses + 2  # the file changed: parsed again
    assert build("--vars", "{}") == 42 and dbt_in_process.PARSES == parses + 2  # parsed by the invocation itself


def _tiny_project(root: Path) -> Path:
    project = root / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n")
    (project / "profiles.yml").write_text(
        "tiny:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        "      path: \"{{ env_var('WAREHOUSE_PATH') }}\"\n      threads: 1\n")
    (project / "models" / "answer.sql").write_text("select 42 as answer")
    return project


def _parse_events(target: Path) -> list[str]:
    return [json.loads(line)["info"]["name"] for path in sorted(target.glob("dbt.log*"))
            for line in path.read_text().splitlines()]


def test_a_new_data_dir_parses_partially_from_the_state_another_one_left(tmp_path, monkeypatch):
    """Round 3: dbt's partial-parse state hashed the warehouse path, so every new DATA_DIR parsed the project in
    full (~5 s); the in-process parse now hashes the path by its file name and a DATA_DIR without state starts
    from the last one written for the project and target. The second DATA_DIR parses partially and builds the
    same; a changed model is still parsed again (dbt checks every file against the state)."""
    import duckdb

    from orchestration import dbt_in_process
    from orchestration.settings import load_settings

    project = _tiny_project(tmp_path)
    for name in ("WAREHOUSE_PATH", "DUCKDB_MEMORY_LIMIT", "DBT_TARGET"):  # set by the run, restored after the test
        monkeypatch.setenv(name, "")

    def build(data_dir: Path) -> tuple[int, list[str]]:
        monkeypatch.setenv("DATA_DIR", str(data_dir))
        settings = load_settings()
        data_dir.mkdir()
        dbt_in_process.run_dbt(settings, ["build"], data_dir / "dbt_target", project_dir=project)
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            answer = con.execute("select answer from answer").fetchone()[0]
        return answer, _parse_events(data_dir / "dbt_target")

    seed = dbt_in_process._seed_path(project, load_settings())
    answer, first = build(tmp_path / "first")
    assert answer == 42 and "UnableToPartialParse" in first  # no state anywhere yet: in full
    assert seed.exists()  # kept for the next DATA_DIR
    answer, second = build(tmp_path / "second")
    assert answer == 42 and "UnableToPartialParse" not in second and "PartialParsingSkipParsing" in second
    assert "SQLQuery" in second  # the log file keeps dbt's debug events (each statement)
    (project / "models" / "answer.sql").write_text("select 43 as answer")
    answer, third = build(tmp_path / "third")
    assert answer == 43 and "UnableToPartialParse" not in third and "PartialParsingSkipParsing" not in third


def test_the_parse_state_hashes_the_warehouse_by_its_file_name_and_every_other_setting_whole():
    """The database name dbt derives from the path (its file name) and every other connection setting still
    invalidate another DATA_DIR's state; only the folder does not."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    from orchestration.dbt_in_process import portable_connection_keys

    def keys(path: str, **settings) -> str:
        return portable_connection_keys(DuckDBCredentials(database="warehouse", schema="main", path=path,
                                                          settings=settings))

    assert keys("/a/warehouse.duckdb") == keys("/b/c/warehouse.duckdb")
    assert keys("/a/warehouse.duckdb") != keys("/a/other.duckdb")
    assert keys("/a/warehouse.duckdb", memory_limit="4GB") != keys("/b/warehouse.duckdb", memory_limit="8GB")


def test_dbt_in_process_logs_to_its_file_only_and_keeps_debug_there():
    """dbt's console logger formatted every event (~7,000 per build) for --quiet to drop all but errors; in the
    pipeline's process it is off (the dbt step echoes dbt's lines itself); the log file keeps every debug event."""
    from orchestration.dbt_in_process import _log_flags
    from orchestration.settings import load_settings

    flags = _log_flags(load_settings(), Path("/tmp/target"))
    assert flags[flags.index("--log-level") + 1] == "none"
    assert flags[flags.index("--log-level-file") + 1] == "debug"


def test_the_event_log_asks_the_schema_once_per_table_and_column(tmp_path, monkeypatch):
    """Round 3: every stored asset event asked SQLite whether the asset-check table exists (a new engine each time)
    and read the asset-key table's columns; once present they are remembered per storage."""
    dagster_sqlite.install()
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from sqlalchemy.engine.reflection import Inspector

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="one")])
    def one():
        yield dg.Output(1)
        yield dg.AssetCheckResult(passed=True)

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    dg.materialize([one], instance=instance)
    engines, columns_read = [], []
    real_engine, real_columns = sqlite_event_log.create_engine, Inspector.get_columns
    monkeypatch.setattr(sqlite_event_log, "create_engine", lambda *a, **k: engines.append(a) or real_engine(*a, **k))
    monkeypatch.setattr(Inspector, "get_columns",
                        lambda self, table, *a, **k: columns_read.append(table) or real_columns(self, table, *a, **k))
    second = dg.materialize([one], instance=instance)
    assert second.success and engines == [] and "asset_keys" not in columns_read
    [check] = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(one.check_keys)).values()
    assert check.run_id == second.run_id


def test_the_executable_collects_garbage_rarely_and_ends_without_the_teardown(monkeypatch):
    """Round 3: `spine-pipeline` is run.program(): the collector's young threshold is raised for the run, and the
    process ends once main() returns, without the interpreter's teardown (its collections took ~3-4 s after the
    summary)."""
    import gc
    from importlib.metadata import entry_points

    from orchestration import run

    assert entry_points(group="console_scripts")["spine-pipeline"].value == "orchestration.run:program"
    seen = {}
    monkeypatch.setattr(run, "main", lambda: seen.update(threshold=gc.get_threshold()[0]) or 3)
    monkeypatch.setattr(run, "end_process", lambda code: seen.update(ended=code))
    before = gc.get_threshold()
    try:
        assert run.program() == 3
        assert seen == {"threshold": run.GC_YOUNG_THRESHOLD, "ended": 3}
    finally:
        gc.set_threshold(*before)


def test_the_process_ends_after_the_exit_handlers_with_its_output_and_code(tmp_path):
    """end_process: buffered output (a pipe) is written, the exit handlers run (an SQLite keeper's WAL is
    checkpointed into the database file), the exit code is kept; a running non-daemon thread keeps the
    interpreter's own exit."""
    import subprocess
    import sys

    script = f"""
import atexit, sqlite3, sys, threading, time
from orchestration import run
con = sqlite3.connect({str(tmp_path)!r} + "/" + sys.argv[1] + ".db", isolation_level=None)
con.execute("pragma journal_mode = wal"); con.execute("create table t (x)"); con.execute("insert into t values (1)")
atexit.register(con.close)
atexit.register(lambda: print("exit handler ran"))
print("buffered output")
if sys.argv[1] == "thread":
    threading.Thread(target=lambda: (time.sleep(1), print("thread finished"))).start()
run.end_process(5)
print("returned")
sys.exit(6)
"""
    ended = subprocess.run([sys.executable, "-c", script, "plain"], capture_output=True, text=True, timeout=120)
    assert (ended.returncode, ended.stdout.split("\n")) == (5, ["buffered output", "exit handler ran", ""])
    assert (tmp_path / "plain.db").exists() and not (tmp_path / "plain.db-wal").exists()  # closed by its handler
    waited = subprocess.run([sys.executable, "-c", script, "thread"], capture_output=True, text=True, timeout=120)
    assert waited.returncode == 6 and "thread finished" in waited.stdout and "returned" in waited.stdout


def test_the_run_imports_the_checks_and_fit_libraries_in_the_background_before_ingestion(one_delivery_settings,
                                                                                        monkeypatch):
    """Round 4: Great Expectations (and statsmodels for a refit) are imported in a thread while the ingestion runs
    (mostly DuckDB, outside the GIL), not by the first check after it; the modules named are those the checks and
    the fit import. Round 5: the publication's modules too."""
    import re

    from orchestration import run
    from orchestration.settings import PROJECT_ROOT

    for module, names in (("orchestration/quality/validate.py", run.CHECK_IMPORTS),
                          ("orchestration/quality/data_docs.py", run.CHECK_IMPORTS),
                          ("orchestration/assets/risk_model.py", run.FIT_IMPORTS)):
        imported = set(re.findall(r"^\s+(?:import|from) (great_expectations\S*|statsmodels\S*)",
                                  (PROJECT_ROOT / module).read_text(), re.M))
        assert imported and imported <= set(names), (module, imported)

    imported = set(re.findall(r"^[ \t]+from (orchestration\.publish\S*) import",
                              (PROJECT_ROOT / "orchestration/assets/publish.py").read_text(), re.M))
    assert imported and imported <= set(run.PUBLISH_IMPORTS), imported

    settings = one_delivery_settings
    order, import_in_background = [], run.import_in_background
    monkeypatch.setattr(run, "import_in_background", lambda modules: order.append(("imports", modules)))
    monkeypatch.setattr(run, "_execute", lambda defs, job, *a, **k: order.append(("job", job))
                        or type("Result", (), {"success": False, "all_events": []})())
    assert run._run_pipeline(settings, refit=False) == run.EXIT_FAILED
    assert order == [("imports", run.CHECK_IMPORTS + run.FIT_IMPORTS + run.PUBLISH_IMPORTS), ("job", "ingest_job")]

    started = import_in_background(("json", "no_such_module_here", "csv"))
    started.join(timeout=60)
    assert started.daemon and not started.is_alive()  # a failed import stops the thread quietly


def test_the_code_location_does_not_import_the_publication_at_start_up():
    """Round 5: the publication's modules (its site's pages: matplotlib, ~0.4 CPU s) are imported by the publication
    step (and by `spine-pipeline run` in the background during ingestion), not by every process that loads the
    definitions before its first step."""
    import subprocess
    import sys

    script = ("import sys; from orchestration.definitions import defs; "
              "print(sorted(m for m in ('matplotlib', 'orchestration.publish.publisher', 'orchestration.publish.site')"
              " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]", loaded.stdout


def test_the_background_imports_leave_logging_s_logger_class_alone():
    """The background imports run while the ingest job starts, and a Dagster run creates its console logger from
    logging's process-wide logger class: no background import may switch that class, even for an instant (pyspark's
    logging module did, and a run failed with "PySparkLogger.__init__() got an unexpected keyword argument 'level'")."""
    import subprocess
    import sys

    script = """
import logging, threading
from orchestration import run
switched = []
set_class = logging.setLoggerClass
logging.setLoggerClass = lambda klass: (switched.append(threading.current_thread().name), set_class(klass))
run.import_in_background(run.CHECK_IMPORTS + run.FIT_IMPORTS + run.PUBLISH_IMPORTS).join(timeout=300)
print(sorted(set(switched) - {threading.main_thread().name}))
"""
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert found.stdout.strip().splitlines()[-1] == "[]", found.stdout + found.stderr[-2000:]
