"""dbt on Spark, run inside the pipeline's own process (WAREHOUSE=spark).

dbt-spark's `session` method runs every statement on `SparkSession.builder.getOrCreate()`, which in this process
is the pipeline's session (orchestration/spark_session.py): one driver and one catalog for the ingestion, dbt and
the checks, and the driver's start-up (about 9 s) is paid once per process, not once per dbt invocation. A dbt
subprocess would start a driver of its own, which an embedded metastore held by this process would refuse.

dbt's structured events are the ones `dbt --log-format json` prints, so dagster-dbt turns them into the same
Dagster events (materializations, asset checks) as for the DuckDB subprocess.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, Settings

_DONE = object()


class DbtFailed(Exception):
    """A dbt invocation did not succeed; the message lists dbt's errors."""


@dataclass
class DbtRun:
    """The structured events of one in-process dbt invocation, streamed while it runs; `success` after."""
    args: list[str]
    events: "queue.Queue[object]" = field(default_factory=queue.Queue)
    success: bool | None = None
    errors: list[str] = field(default_factory=list)
    exception: BaseException | None = None

    def stream(self) -> Iterator[dict]:
        while (event := self.events.get()) is not _DONE:
            yield event  # type: ignore[misc]

    def raise_on_failure(self) -> None:
        if self.exception is not None:
            raise DbtFailed(f"dbt {' '.join(self.args)} raised {self.exception!r}") from self.exception
        if not self.success:
            shown = "\n".join(self.errors[-20:]) or "(no error message)"
            raise DbtFailed(f"dbt {' '.join(self.args)} failed:\n{shown}")


def start_dbt(settings: Settings, args: list[str], target_path: Path, project_dir: Path = DBT_PROJECT_DIR,
              vars_json: str | None = None) -> DbtRun:
    """Start `dbt <args>` on the Spark target in a thread of this process; read its events with .stream()."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    from orchestration.spark_session import export_spark_env, get_spark

    get_spark(settings)  # dbt-spark's getOrCreate() then finds the pipeline's session, with its catalog
    export_spark_env(settings)
    # --quiet: dbt's console lines would interleave with the run's progress (the events reach on_event all the same,
    # and dbt's log file is under the target's folder)
    full = ["--quiet", "--log-path", str(target_path / "logs"), *args, "--project-dir", str(project_dir),
            "--profiles-dir", str(project_dir), "--target", "spark", "--target-path", str(target_path)]
    if vars_json is not None:
        full += ["--vars", vars_json]
    run = DbtRun(full)

    def on_event(msg) -> None:
        event = msg_to_dict(msg)
        if event.get("info", {}).get("level") == "error" and event["info"].get("msg"):
            run.errors.append(event["info"]["msg"])
        run.events.put(event)

    def invoke() -> None:
        try:
            result = dbtRunner(callbacks=[on_event]).invoke(full)
            run.success = bool(result.success)
            if result.exception is not None:
                run.exception = result.exception
        except BaseException as exc:  # noqa: BLE001 - reported through raise_on_failure
            run.success, run.exception = False, exc
        finally:
            run.events.put(_DONE)

    threading.Thread(target=invoke, name="dbt-in-process", daemon=True).start()
    return run


def run_dbt(settings: Settings, args: list[str], target_path: Path, project_dir: Path = DBT_PROJECT_DIR,
            vars_json: str | None = None) -> DbtRun:
    """Run dbt to the end; raises DbtFailed when it does not succeed."""
    run = start_dbt(settings, args, target_path, project_dir, vars_json)
    for _ in run.stream():
        pass
    run.raise_on_failure()
    return run


def dagster_events(context, settings: Settings, args: list[str], target_path: Path, vars_json: str | None = None):
    """The Dagster events of `dbt <args>` run in-process for a @dbt_assets step: the step's selection (as
    DbtCliResource.cli computes it), then each result event turned into outputs and asset checks by dagster-dbt.
    Raises DbtFailed at the end when dbt did not succeed (as the subprocess invocation does)."""
    from dagster_dbt.asset_utils import get_updated_cli_invocation_params_for_context
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

    params = get_updated_cli_invocation_params_for_context(context, {}, None)
    preset = os.environ.get("DBT_INDIRECT_SELECTION")  # the caller's choice wins (dbt_models.py sets one)
    if params.indirect_selection and preset is None:
        os.environ["DBT_INDIRECT_SELECTION"] = params.indirect_selection
    project_dir = Path(params.dbt_project.project_dir) if params.dbt_project else DBT_PROJECT_DIR
    try:
        run = start_dbt(settings, [*args, *params.selection_args], target_path, project_dir, vars_json)
        for raw in run.stream():
            event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
            yield from event.to_default_asset_events(manifest=params.manifest,
                                                     dagster_dbt_translator=params.dagster_dbt_translator,
                                                     context=context, target_path=target_path,
                                                     project=params.dbt_project)
    finally:
        if preset is None:
            os.environ.pop("DBT_INDIRECT_SELECTION", None)
    run.raise_on_failure()
