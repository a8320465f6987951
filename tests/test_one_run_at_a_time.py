"""One pipeline at a time per DATA_DIR: the lock, the instance configuration the project writes, and real runs
meeting each other (two headless runs; ten sensor runs on a Dagster daemon with the project's dagster.yaml)."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration.dagster_home import HEADLESS_TAG, fail_abandoned_headless_runs, write_instance_config
from orchestration.data_dir_lock import DataDirBusy, data_dir_lock, lock_path
from orchestration.run import EXIT_BUSY, prepare_dagster_home
from orchestration.sample_data.cli import generate
from orchestration.settings import PROJECT_ROOT, load_settings

BIN = Path(sys.executable).parent
HOLD = """
import sys, time
from orchestration.data_dir_lock import data_dir_lock
with data_dir_lock(sys.argv[1], holder="test holder"):
    print("holding", flush=True)
    time.sleep(600)
"""


def _hold_in_another_process(data_dir: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_the_lock_names_its_holder_and_is_released_when_the_holder_is_killed(tmp_path):
    holder = _hold_in_another_process(tmp_path)
    try:
        with pytest.raises(DataDirBusy, match=rf"in use by pid {holder.pid} \(test holder, since .*LOCK_WAIT_SECONDS"):
            with data_dir_lock(tmp_path):
                pass
        started = time.monotonic()
        with pytest.raises(DataDirBusy, match="after waiting 1 s"):
            with data_dir_lock(tmp_path, wait_seconds=1):
                pass
        assert time.monotonic() - started >= 1
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with data_dir_lock(tmp_path, holder="after the kill"):  # kill -9 leaves the file, never the lock
        assert "after the kill" in lock_path(tmp_path).read_text()


def test_the_lock_is_reentrant_in_one_process(tmp_path):
    with data_dir_lock(tmp_path, holder="outer"):
        with data_dir_lock(tmp_path, holder="inner"):
            assert "outer" in lock_path(tmp_path).read_text()
        assert "outer" in lock_path(tmp_path).read_text()
    assert lock_path(tmp_path).read_text() == ""


def test_a_warehouse_step_meets_the_lock_with_a_clear_failure(tmp_path):
    from orchestration.resources import WarehouseResource

    holder = _hold_in_another_process(tmp_path)
    try:
        with pytest.raises(dg.Failure, match="in use by pid"):
            with WarehouseResource(data_dir=str(tmp_path)).connect():
                pass
    finally:
        holder.kill()
        holder.wait()


def test_instance_config_is_enforced_and_other_settings_kept(tmp_path):
    path = tmp_path / "dagster.yaml"
    path.write_text("telemetry:\n  enabled: true\nrun_queue:\n  max_concurrent_runs: 10\n  dequeue_interval_seconds: 2\n"
                    "run_monitoring:\n  enabled: true\n  poll_interval_seconds: 120\n")
    write_instance_config(tmp_path)
    config = yaml.safe_load(path.read_text())
    assert config["concurrency"] == {"pools": {"default_limit": 1, "granularity": "run"},
                                     "runs": {"max_concurrent_runs": 1}}
    assert config["telemetry"] == {"enabled": False}
    assert config["run_queue"] == {"dequeue_interval_seconds": 2}
    # the run monitor's defaults fill what the user left out; the user's values are kept
    assert config["run_monitoring"] == {"enabled": True, "poll_interval_seconds": 120, "max_resume_run_attempts": 0}
    assert config["run_launcher"] == {"module": "orchestration.run_launcher", "class": "LocalRunLauncher"}
    written = path.stat().st_mtime_ns
    write_instance_config(tmp_path)
    assert path.stat().st_mtime_ns == written  # idempotent: nothing to change, nothing written

    instance = dg.DagsterInstance.from_config(str(tmp_path))
    concurrency = instance.get_concurrency_config()
    assert concurrency.pool_config.default_pool_limit == 1
    assert concurrency.run_queue_config.max_concurrent_runs == 1
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


def _one_step_job(name: str = "job") -> dg.JobDefinition:
    """A job to create runs of (their status and events are what the tests set)."""
    @dg.op
    def noop():
        pass

    @dg.job(name=name)
    def job():
        noop()

    return job


def test_a_killed_headless_run_does_not_hold_the_queue(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    job = _one_step_job()
    abandoned = instance.create_run_for_job(job, tags=dict([HEADLESS_TAG]), status=dg.DagsterRunStatus.STARTED)
    daemon_run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    assert fail_abandoned_headless_runs(instance) == [abandoned.run_id]
    assert instance.get_run_by_id(abandoned.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(daemon_run.run_id).status == dg.DagsterRunStatus.STARTED


def test_a_run_whose_process_was_killed_is_failed_by_the_run_monitor(tmp_path, monkeypatch):
    """Session 10: a run the daemon launched and whose process was then killed (kill -9 of the deployment)
    stayed STARTED for ever on the project's instance, and with one run at a time every later run waited behind
    it in the queue. On the instance `prepare_dagster_home` writes, the daemon's run monitor fails it, with the
    reason; a run whose process lives is left alone, and so is one of a user's own launcher."""
    from dagster._core.events import EngineEventData
    from dagster._daemon.monitoring.run_monitoring import monitor_started_run

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster_home"))
    home = prepare_dagster_home(load_settings({"DATA_DIR": str(tmp_path / "data"), "LANDING_DIR": str(tmp_path)}))
    instance = dg.DagsterInstance.from_config(str(home))
    assert instance.run_monitoring_enabled
    job = _one_step_job()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    runs = {}
    for name, pid in (("killed", ended.pid), ("alive", os.getpid())):
        runs[name] = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        instance.report_engine_event(f"Started process for run (pid: {pid}).", runs[name],
                                     EngineEventData.in_process(pid))
    runs["no process yet"] = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
    for run in runs.values():
        record = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))[0]
        monitor_started_run(instance, None, record, logging.getLogger("test"))

    status = {name: instance.get_run_by_id(run.run_id).status for name, run in runs.items()}
    assert status == {"killed": dg.DagsterRunStatus.FAILURE, "alive": dg.DagsterRunStatus.STARTED,
                      "no process yet": dg.DagsterRunStatus.STARTED}
    failure = instance.all_logs(runs["killed"].run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
    assert f"pid {ended.pid}" in failure.message and "ended without finishing the run" in failure.message


def test_a_headless_run_does_not_start_beside_a_run_of_the_deployment(tmp_path, monkeypatch, capsys):
    """Session 10: `spine-pipeline run` on the DATA_DIR of a deployment whose refresh was in progress started
    whenever it met the lock free, i.e. between two steps of the refresh, and then held the lock for its whole run,
    so the refresh's next step failed on it. It now exits 3 naming the deployment's run; a run whose process
    has ended (killed with the deployment) is marked failed instead of blocking it."""
    from dagster._core.events import EngineEventData

    from orchestration.run import main

    landing, data = tmp_path / "landing", tmp_path / "data"
    (landing / "medical_claim").mkdir(parents=True)
    (landing / "medical_claim" / "2024-01.csv").write_text(
        "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1\n"
        "C1,1,P1,2024-01-02,63030,M51.16\n")
    for name, value in {"LANDING_DIR": str(landing), "DATA_DIR": str(data), "AS_OF_DATE": "",
                        "LOCK_WAIT_SECONDS": "0", "DAGSTER_HOME": str(data / "dagster_home")}.items():
        monkeypatch.setenv(name, value)
    home = prepare_dagster_home(load_settings())
    instance = dg.DagsterInstance.from_config(str(home))
    refresh = _one_step_job("refresh_job")
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        run = instance.create_run_for_job(refresh, status=dg.DagsterRunStatus.STARTED)
        instance.report_engine_event(f"Started process for run (pid: {worker.pid}).", run,
                                     EngineEventData.in_process(worker.pid))
        assert main(["run"]) == EXIT_BUSY
        message = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(message) == 1 and f"run {run.run_id} of refresh_job is started" in message[0], message
        assert not (data / "warehouse.duckdb").exists(), "nothing was done"
    finally:
        worker.kill()
        worker.wait()
    from orchestration.dagster_home import deployment_runs_in_progress

    assert deployment_runs_in_progress(instance) == []
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE


def _env(landing: Path, data: Path) -> dict[str, str]:
    return {**os.environ, "LANDING_DIR": str(landing), "DATA_DIR": str(data), "AS_OF_DATE": "",
            "DAGSTER_HOME": str(data / "dagster_home"), "DAGSTER_DISABLE_TELEMETRY": "true",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "LOCK_WAIT_SECONDS": "0"}


@pytest.mark.slow
def test_two_runs_on_one_data_dir_the_second_exits_with_a_clear_message(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    generate(600, 3, landing)  # the smallest sample where the open risk model fits
    env = _env(landing, data)
    first = subprocess.Popen([str(BIN / "spine-pipeline"), "run"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (lock_path(data).exists() and lock_path(data).read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert lock_path(data).read_text().startswith(f"pid {first.pid} (spine-pipeline run")

    second = subprocess.run([str(BIN / "spine-pipeline"), "run"], env=env, capture_output=True, text=True,
                            timeout=300)
    out, err = first.communicate(timeout=900)

    assert second.returncode == EXIT_BUSY
    message = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(message) == 1, second.stderr
    assert f"DATA_DIR {data} is in use by pid {first.pid} (spine-pipeline run" in message[0]
    assert first.returncode == 0, err[-3000:]
    assert re.search(r"^Published \d+ tables: ", out, re.MULTILINE), out[-2000:]


@pytest.mark.slow
def test_ten_sensor_runs_at_once_all_succeed_on_the_project_instance(tmp_path, monkeypatch):
    """The landing sensor sees ten new files and asks for ten ingest runs at once; the daemon runs them through
    the queue of the instance `prepare_dagster_home` writes. Without its limits the runs would open the
    warehouse together (Dagster's default allows 10 runs at once)."""
    landing, data = tmp_path / "landing", tmp_path / "data"
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1"
    (landing / "medical_claim").mkdir(parents=True)
    for month in range(1, 11):
        rows = [f"C{month}-{i},1,P{i},2024-{month:02d}-0{i},63030,M51.16" for i in range(1, 4)]
        (landing / "medical_claim" / f"2024-{month:02d}.csv").write_text("\n".join([header, *rows]) + "\n")
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    home = prepare_dagster_home(load_settings({"DATA_DIR": str(data), "LANDING_DIR": str(landing)}))
    env = _env(landing, data)
    workspace = ["-w", str(PROJECT_ROOT / "workspace.yaml")]
    subprocess.run([str(BIN / "dagster"), "sensor", "start", "landing_sensor", *workspace], env=env,
                   cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=300)
    log = open(tmp_path / "daemon.log", "w")
    daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", *workspace], env=env, cwd=PROJECT_ROOT,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            records = instance.get_run_records()
            if len(records) >= 10 and all(r.dagster_run.is_finished for r in records):
                break
            time.sleep(1)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
        log.close()

    records = sorted(instance.get_run_records(), key=lambda r: r.start_time or 0)
    statuses = [r.dagster_run.status for r in records]
    assert statuses == [dg.DagsterRunStatus.SUCCESS] * 10, (tmp_path / "daemon.log").read_text()[-3000:]
    for earlier, later in zip(records, records[1:]):  # queued one after the other, never side by side
        assert earlier.end_time <= later.start_time
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        loaded = con.execute("select count(distinct _delivery), count(*) from raw.medical_claim").fetchone()
    assert loaded == (10, 30)
