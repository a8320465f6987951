"""The run launcher of the project's Dagster instance: Dagster's default launcher (each run in a process started by
the code server), which also tells the daemon's run monitor whether a run's process is still alive.

Dagster's DefaultRunLauncher cannot say: a run whose process was killed (`kill -9` of the deployment, the machine
or its out-of-memory killer, a container stopped) stayed `STARTED` for ever, and with one run at a time
(dagster.yaml) every later run waited behind it in the queue and the refresh after ingestion was never launched
again (session 10). With this launcher and `run_monitoring` on (orchestration/dagster_home.py), the daemon marks
such a run failed, with the reason in its log, within `run_monitoring.poll_interval_seconds`, and
`run_retries` launches it again once.

The worker's process id is the one its first engine event records (`Started process for run (pid: N)` for a run
the daemon launched, `Executing steps in process (pid: N)` for `spine-pipeline run`). The process is alive when
that id exists, is not a zombie, and (Linux) did not start after the event (an id the system gave to a new
process since). A worker on another host (a code server reached over the network) cannot be seen from here: its
health is reported as running, as Dagster's own launcher does.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from pathlib import Path

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", socket.gethostname()}
# a process id reused by the system belongs to a process that started after the worker recorded it
PID_REUSE_SLACK_SECONDS = 2.0


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The process id of the run's worker and when it was recorded (epoch seconds), or None before it starts."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.engine_event_data if record.dagster_event else None
        pid = (data.metadata or {}).get("pid") if data else None
        if pid is not None:
            return int(getattr(pid, "value", pid)), record.timestamp
    return None


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def process_alive(pid: int, recorded_at: float | None = None) -> bool:
    """Whether process `pid` exists and is not a zombie; on Linux also that it started by `recorded_at`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): existence is all we know
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state is field 3, starttime field 22
    if fields[0] in ("Z", "X"):
        return False
    boot = _boot_time()
    if recorded_at is not None and boot is not None:
        started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        if started > recorded_at + PID_REUSE_SLACK_SECONDS:
            return False
    return True


def _runs_here(run: dg.DagsterRun) -> bool:
    """Whether the run's worker runs on this machine (launched by a local code server, or in-process)."""
    info = run.tags.get(".dagster/grpc_info")
    if not info:
        return True  # executed in-process (spine-pipeline run)
    try:
        grpc = json.loads(info)
    except ValueError:
        return False
    return bool(grpc.get("socket")) or grpc.get("host") in LOCAL_HOSTS


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher that reports a run whose worker process has ended as failed to the run monitor."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if not _runs_here(run):
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run worker is on another host")
        recorded = worker_pid(self._instance, run.run_id)
        if recorded is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run worker has not recorded its process yet")
        pid, recorded_at = recorded
        if process_alive(pid, recorded_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive")
        since = datetime.fromtimestamp(recorded_at).astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the process running it (pid {pid}, started {since}) ended without finishing the run: it was killed "
            "(kill -9, out of memory, the deployment or the machine stopped). Nothing of this run was published; "
            "the previous publication is kept (docs/operations.md)",
        )
