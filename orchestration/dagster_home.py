"""The Dagster instance the project runs on (DATA_DIR/dagster_home): its dagster.yaml, and runs a kill left open.

Every job opens warehouse.duckdb, which DuckDB lets only one process open while any process writes it, so runs
must not overlap. dagster.yaml therefore allows one run in progress (sensor runs, the daily schedule and UI
launches wait in the run queue) and puts every warehouse step in the pool `warehouse` with limit 1. The pool
is enforced per run (granularity `run`): the queue checks it before launching, and no op-level slot is claimed
inside a run, which a killed run would otherwise keep claimed. The headless run (`spine-pipeline run`) records
its runs in the same instance, so the queue counts them as in progress too.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import yaml

# Tag of the runs `spine-pipeline run|demo` executes in-process (no run worker that Dagster could monitor).
HEADLESS_TAG = ("spine/launched_by", "spine-pipeline")
# Every tag of those runs: never retried by the daemon (run_retries below): the process that ran them reports.
HEADLESS_TAGS = {HEADLESS_TAG[0]: HEADLESS_TAG[1], "dagster/max_retries": "0"}
MANAGED_SETTINGS = {
    "telemetry": {"enabled": False},
    "concurrency": {
        "pools": {"default_limit": 1, "granularity": "run"},
        "runs": {"max_concurrent_runs": 1},
    },
}
# Written when the user's dagster.yaml has no value of its own (a user's run launcher, e.g. a K8sRunLauncher, is kept):
# a run whose process was killed is marked failed by the daemon's run monitor (orchestration/run_launcher.py), then
# launched again once; a step that failed is not retried (retry_on_asset_or_op_failure: false).
DEFAULT_SETTINGS = {
    "run_launcher": {"module": "orchestration.run_launcher", "class": "LocalRunLauncher"},
    "run_monitoring": {"enabled": True, "poll_interval_seconds": 30, "max_resume_run_attempts": 0},
    "run_retries": {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False},
}
_ACTIVE = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
           dg.DagsterRunStatus.CANCELING]


def _merge(current: dict, managed: dict) -> dict:
    merged = dict(current)
    for key, value in managed.items():
        merged[key] = _merge(merged.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def write_instance_config(home: Path) -> Path:
    """Enforce the managed settings in home/dagster.yaml, keeping every other setting a user added there.

    Idempotent: the file is rewritten (atomically) only when a managed value differs.
    """
    path = home / "dagster.yaml"
    current = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    merged = _merge(current, MANAGED_SETTINGS)
    for key, value in DEFAULT_SETTINGS.items():
        if key == "run_launcher":
            merged.setdefault(key, value)
        else:
            merged[key] = {**value, **(merged.get(key) or {})}
    # The older spelling of the run limit conflicts with `concurrency: runs:` (Dagster refuses both).
    run_queue = dict(merged.get("run_queue") or {})
    if run_queue.pop("max_concurrent_runs", None) is not None:
        merged["run_queue"] = run_queue
        if not run_queue:
            del merged["run_queue"]
    if merged != current:
        staged = path.with_name(f".{path.name}.{os.getpid()}")
        staged.write_text(yaml.safe_dump(merged, sort_keys=False))
        os.replace(staged, path)
    return path


def fail_abandoned_headless_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the headless runs still recorded as in progress; call only while holding the DATA_DIR lock.

    Holding the lock proves that no other headless run on this DATA_DIR is alive: such a run was killed and its
    record would otherwise count as in progress forever, and keep the run queue (limit 1) from launching.
    """
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=_ACTIVE, tags=dict([HEADLESS_TAG])))
    for run in runs:
        instance.report_run_failed(run, "abandoned: the process running it ended without finishing it")
    return [run.run_id for run in runs]


_RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def deployment_runs_in_progress(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """The runs of the Dagster deployment (`spine-pipeline ui`: sensor, automation, schedule, launchpad) in
    progress on this instance, after marking failed those whose process is known to have ended (killed with the
    deployment while its daemon is not running to notice: orchestration/run_launcher.py).

    A headless run must not start beside one: the DATA_DIR lock keeps them out of the warehouse at the same
    moment, but a Dagster run only holds it inside each step, so a headless run starting between two steps would
    take the lock for its whole run and the deployment's next step would fail on it (session 10). A run STARTING
    for ever (its launcher died) is the run monitor's (start_timeout_seconds) or the operator's to end."""
    from orchestration.run_launcher import worker_pid, process_alive

    running = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_RUNNING)):
        if run.tags.get(HEADLESS_TAG[0]) == HEADLESS_TAG[1]:
            continue  # fail_abandoned_headless_runs: the DATA_DIR lock decides for those
        recorded = worker_pid(instance, run.run_id)
        if run.status == dg.DagsterRunStatus.STARTED and recorded and not process_alive(*recorded):
            instance.report_run_failed(run, f"the process running it (pid {recorded[0]}) ended without finishing "
                                            "the run: it was killed with the deployment (noticed by "
                                            "spine-pipeline run)")
            continue
        running.append(run)
    return running
