"""The scheduled deployment for real (session 10): `spine-pipeline ui` (dagster dev: webserver + daemon) on a temp
DATA_DIR, its sensors turned on as the UI does (GraphQL), deliveries dropped into the landing folder:

1. the first deliveries: partitions registered, one ingest run per file, then the automation's first refresh (a
   refit: no risk-model version yet) and a publication;
2. a second month and a late correction of an older month dropped together: their ingest runs, then one refresh;
   the results equal a one-shot `spine-pipeline run` on the same files (measure_cases and published tables,
   EXCEPT ALL both ways);
3. abuse: a headless run on the same DATA_DIR while the deployment's refresh runs (exit 3, one line), then the
   whole deployment killed with SIGKILL in the middle of that refresh and started again: the killed run is marked
   failed with the reason, launched again, and succeeds; the lock is free;
4. the deployment, started as a shell starts a background job (SIGINT ignored), stops on SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.data_dir_lock import data_dir_lock
from orchestration.run import EXIT_BUSY
from orchestration.run_launcher import process_alive
from orchestration.sample_data.cli import generate
from orchestration.settings import PROJECT_ROOT, SETTINGS

SENSORS = ("landing_sensor", "default_automation_condition_sensor")
AUTOMATION_TICK_SECONDS = 35  # default_automation_condition_sensor evaluates every 30 s
PUBLISHED_TABLES = ("measure_performance", "code_overview", "code_by_payer")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, predicate, timeout: float, log: Path | None = None, poll: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


def test_the_data_docs_server_ends_with_the_ui_process(tmp_path):
    """Session 10: the Data Docs server `spine-pipeline ui` starts outlived a UI that stopped by itself (its daemon
    was killed), kept the port, and the next start failed with a traceback (`Address already in use`)."""
    port = _free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", "import os, subprocess, sys, time; p = subprocess.Popen([sys.executable, '-m', "
         f"'orchestration.quality.data_docs_server', {str(tmp_path)!r}, '{port}', str(os.getpid())]); "
         "print(p.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    server = int(parent.stdout.readline())
    try:
        (tmp_path / "index.html").write_text("docs")
        _wait("the Data Docs server", lambda: _answers(f"http://127.0.0.1:{port}/index.html"), 30)
        parent.kill()
        parent.wait()
        _wait("the Data Docs server to end with its parent", lambda: not process_alive(server), 15)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server binds (past TIME_WAIT)
            s.bind(("127.0.0.1", port))
            s.listen()  # nobody listens on the port any more
    finally:
        parent.kill()
        if process_alive(server):
            os.kill(server, signal.SIGKILL)

    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", port))
    taken.listen()
    try:
        busy = subprocess.run([sys.executable, "-m", "orchestration.quality.data_docs_server", str(tmp_path),
                               str(port)], capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    finally:
        taken.close()
    assert busy.returncode == 1
    assert busy.stderr.strip().splitlines() == [busy.stderr.strip()] and "DATA_DOCS_PORT" in busy.stderr


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _concat(files: list[Path], out: Path, keep=lambda i: True) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for n, f in enumerate(files):
        rows = f.read_text().splitlines(keepends=True)
        lines += rows if n == 0 else rows[1:]
    out.write_text("".join(line for i, line in enumerate(lines) if i == 0 or keep(i)))


def _stage(sample: Path, stage: Path) -> dict[str, Path]:
    """Deliveries cut from a generated sample: d1 the history to 2025-10 (claims and scores in one file each, one
    enrollment file), d2 the month 2025-11, d3 a late correction of 2025-10 (every 20th claim line withdrawn),
    d4 the month 2025-12."""
    months = lambda table, last: sorted(p for p in (sample / table).glob("*.csv") if p.stem <= last)  # noqa: E731
    for table in ("medical_claim", "observation"):
        _concat(months(table, "2025-10"), stage / "d1" / table / "2025-10.csv")
        _concat([sample / table / "2025-11.csv"], stage / "d2" / table / "2025-11.csv")
    (stage / "d1" / "eligibility").mkdir(parents=True)
    shutil.copy(sample / "eligibility" / "2025-01.csv", stage / "d1" / "eligibility" / "2025-01.csv")
    _concat(months("medical_claim", "2025-10"), stage / "d3" / "medical_claim" / "2025-10.csv", lambda i: i % 20)
    _concat([sample / "medical_claim" / "2025-12.csv"], stage / "d4" / "medical_claim" / "2025-12.csv")
    return {name: stage / name for name in ("d1", "d2", "d3", "d4")}


def _drop(delivery: Path, landing: Path) -> None:
    """As a careful sender does: write under a hidden name (not read), then rename (docs/operations.md)."""
    for src in sorted(delivery.rglob("*.csv")):
        target = landing / src.relative_to(delivery)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.part")
        shutil.copy(src, staged)
        os.replace(staged, target)


def _env(landing: Path, data: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    return {**base, "LANDING_DIR": str(landing), "DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster_home"),
            "DAGSTER_DISABLE_TELEMETRY": "true", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]), **extra}


class Deployment:
    """`spine-pipeline ui --port P` in its own session, started with SIGINT ignored (a shell's background job)."""

    def __init__(self, env: dict[str, str], port: int, log: Path):
        self.env, self.port, self.log, self.proc = env, port, log, None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "orchestration.run", "ui", "--port", str(self.port)], env=self.env,
                cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        _wait("the webserver and its code location", self._loaded, 180, self.log, poll=2)

    def graphql(self, query: str, variables: dict) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/graphql",
                                         data=json.dumps({"query": query, "variables": variables}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def _loaded(self) -> bool:
        try:
            result = self.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                  "locationOrLoadError { __typename } } } } }", {})
        except OSError:
            return False
        entries = result["data"]["workspaceOrError"].get("locationEntries") or []
        return any((e["locationOrLoadError"] or {}).get("__typename") == "RepositoryLocation" for e in entries)

    def start_sensor(self, name: str) -> None:
        """What the toggle under Automation in the UI does."""
        result = self.graphql(
            "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename "
            "... on Sensor { sensorState { status } } ... on PythonError { message } } }",
            {"s": {"repositoryLocationName": "spine_outcomes", "repositoryName": "__repository__",
                   "sensorName": name}})
        assert result["data"]["startSensor"].get("sensorState", {}).get("status") == "RUNNING", result

    def kill(self) -> None:
        """SIGKILL to every process of the deployment (daemon, webserver, code server, run worker)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        _wait("every process of the deployment to end", self._group_gone, 30)

    def _group_gone(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def stop(self) -> int | None:
        """SIGTERM to the `spine-pipeline ui` process, as `kill PID` or a service manager does; its exit code, or
        None if it did not end within a minute. Whatever is left of its session is then killed."""
        code = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        return code


def _records(instance: dg.DagsterInstance, job: str | None = None, after: float = 0) -> list[dg.RunRecord]:
    records = [r for r in instance.get_run_records() if (job is None or r.dagster_run.job_name == job)
               and r.create_timestamp.timestamp() >= after]
    return sorted(records, key=lambda r: r.create_timestamp)


def _done(records: list[dg.RunRecord], count: int) -> bool:
    return len(records) >= count and all(r.dagster_run.is_finished for r in records)


def _statuses(records) -> list[str]:
    return [r.dagster_run.status.value for r in records]


def _one_shot(landing: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestration.run", "run"], env=_env(landing, data),
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _differences(a: Path, b: Path, table: str) -> tuple[int, int]:
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        one = con.execute(f"select count(*) from (from a.{table} except all from b.{table})").fetchone()[0]
        two = con.execute(f"select count(*) from (from b.{table} except all from a.{table})").fetchone()[0]
        rows = con.execute(f"select count(*) from a.{table}").fetchone()[0]
    assert rows > 0, f"{table} is empty"
    return one, two


def _publication(data: Path) -> str:
    with duckdb.connect(str(data / "published.duckdb"), read_only=True) as con:
        return con.execute("select distinct version from _manifest").fetchone()[0]


@pytest.mark.slow
def test_the_scheduled_deployment(tmp_path):
    sample, landing, data = tmp_path / "sample", tmp_path / "landing", tmp_path / "data"
    generate(600, 3, sample)  # the smallest sample where the open risk model fits
    deliveries = _stage(sample, tmp_path / "stage")
    landing.mkdir()
    one_shot_landing, one_shot_data = tmp_path / "one_shot_landing", tmp_path / "one_shot_data"
    one_shot_landing.mkdir()
    log = tmp_path / "deployment.log"
    env = _env(landing, data, LANDING_SENSOR_INTERVAL_SECONDS="3", DATA_DOCS_PORT=str(_free_port()))
    deployment = Deployment(env, _free_port(), log)
    home = data / "dagster_home"
    try:
        deployment.start()
        instance = dg.DagsterInstance.from_config(str(home))
        for name in SENSORS:
            deployment.start_sensor(name)

        # 1. the first deliveries; the one-shot run on the same files meanwhile (its own DATA_DIR)
        _drop(deliveries["d1"], landing)
        _drop(deliveries["d1"], one_shot_landing)
        first_one_shot = _one_shot(one_shot_landing, one_shot_data)
        _wait("the ingestion of the first deliveries and the first refresh",
              lambda: _done(_records(instance, "ingest_job"), 3) and _done(_records(instance, "refit_job"), 1),
              240, log)
        assert sorted(instance.get_dynamic_partitions("delivery")) == ["2025-01", "2025-10"]
        assert _statuses(_records(instance, "ingest_job")) == ["SUCCESS"] * 3
        refit = _records(instance, "refit_job")
        assert _statuses(refit) == ["SUCCESS"], "the first refresh is a refit (no risk-model version yet)"
        assert refit[0].dagster_run.tags.get("dagster/from_automation_condition") == "true"
        assert not _records(instance, "refresh_job"), "the refit was the refresh: no second one"
        assert (data / "published" / "site" / "index.html").exists() and (data / "published.duckdb").exists()
        out, err = first_one_shot.communicate(timeout=600)
        assert first_one_shot.returncode == 0, err[-3000:]

        # 2. the second month and a late correction of 2025-10, dropped together: one refresh after them
        dropped = time.time()
        for name in ("d2", "d3"):
            _drop(deliveries[name], landing)
            _drop(deliveries[name], one_shot_landing)
        second_one_shot = _one_shot(one_shot_landing, one_shot_data)
        refresh = _wait("the second month's ingestion and its refresh",
                        lambda: _done(_records(instance, "ingest_job", dropped), 3)
                        and _done(_records(instance, "refresh_job", dropped), 1)
                        and _records(instance, "refresh_job", dropped)[0], 240, log)
        out, err = second_one_shot.communicate(timeout=600)
        assert second_one_shot.returncode == 0, err[-3000:]
        time.sleep(max(0.0, refresh.end_time + AUTOMATION_TICK_SECONDS - time.time()))
        assert _statuses(_records(instance, "ingest_job", dropped)) == ["SUCCESS"] * 3
        assert _statuses(_records(instance, "refresh_job", dropped)) == ["SUCCESS"], \
            "one refresh for the three files (counted an automation tick after it ended: no second one)"
        assert sorted(instance.get_dynamic_partitions("delivery")) == ["2025-01", "2025-10", "2025-11"]
        assert _differences(data / "warehouse.duckdb", one_shot_data / "warehouse.duckdb",
                            "marts.measure_cases") == (0, 0)
        for table in PUBLISHED_TABLES:
            assert _differences(data / "published.duckdb", one_shot_data / "published.duckdb", table) == (0, 0), table

        # 3. a file dropped while the refresh runs; a headless run on the same DATA_DIR; the deployment killed
        dropped = time.time()
        _drop(deliveries["d4"], landing)

        def refresh_building():
            runs = _records(instance, "refresh_job", dropped)
            started = runs and runs[-1].dagster_run.status == dg.DagsterRunStatus.STARTED
            return started and any(e.dagster_event.step_key == "dbt_models" for e in instance.all_logs(
                runs[-1].dagster_run.run_id, of_type=dg.DagsterEventType.STEP_START)) and runs[-1]

        killed = _wait("the refresh after the dropped file to build its models", refresh_building, 240, log,
                       poll=0.5).dagster_run
        busy = subprocess.run([sys.executable, "-m", "orchestration.run", "run"], env=_env(landing, data),
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        assert busy.returncode == EXIT_BUSY, busy.stderr[-3000:]
        message = [line for line in busy.stderr.splitlines() if line.strip()]
        assert len(message) == 1 and message[0].startswith(f"DATA_DIR {data} is in use by"), busy.stderr
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.STARTED, \
            "the headless run left the deployment's refresh alone"

        published_before = _publication(data)
        killed_at = time.time()
        deployment.kill()
        assert _publication(data) == published_before, "the killed refresh published nothing"
        with data_dir_lock(data, holder="test: the kill left no lock"):
            pass
        deployment.start()

        def recovered():
            runs = _records(instance, "refresh_job", killed_at)
            retries = [r for r in runs if r.dagster_run.tags.get("dagster/parent_run_id") == killed.run_id]
            succeeded = [r for r in runs if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS]
            return retries and succeeded
        _wait("the killed refresh to be failed, launched again and a refresh to succeed", recovered, 240, log)
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(killed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
        assert "ended without finishing the run" in failure.message, failure.message
        # after the restart the automation may request a refresh of its own beside the retry: both queue, one
        # after the other (docs/operations.md); neither may fail
        assert dg.DagsterRunStatus.FAILURE.value not in _statuses(_records(instance, "refresh_job", killed_at))
        assert _publication(data) != published_before, "a new publication after the recovery"
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            assert con.execute("select count(*) from raw.medical_claim where _delivery = '2025-12'").fetchone()[0] > 0
    finally:
        # 4. SIGTERM ends a deployment started as a background job
        code = deployment.stop()
    assert code is not None, "spine-pipeline ui ignored SIGTERM"
