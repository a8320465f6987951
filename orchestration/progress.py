"""What the headless runs print as they go: each stage's start, what it processed and its seconds.

A Dagster logger (`progress`) reads the run's structured events: a step's start and end with its seconds,
what an ingestion step loaded, how many models and checks a dbt step ran, each check that did not pass, and
the INFO lines steps write about their own progress (the publication writes one per build step, `Laps`).
A step quiet for HEARTBEAT_SECONDS gets a "still running" line, so no stage is silent for a minute. Plain
lines, which a log file keeps as they are; on a terminal the stage names are bold.
Nothing here names a value from the data: counts, rule names and table names only.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

import dagster as dg

HEARTBEAT_SECONDS = 30.0
# Steps whose INFO lines are their progress (the ingestion and dbt steps report through their events instead).
NARRATED_STEPS = ("risk_model__coefficients", "published_tables")
STAGE_LABELS = {
    "raw__medical_claim": "ingest medical_claim",
    "raw__eligibility": "ingest eligibility",
    "raw__observation": "ingest observation",
    "raw__provider": "ingest provider",
    # one dbt step in a refresh; a refit splits it around the fit (orchestration/assets/dbt_models.py)
    "dbt_models": "dbt: models and tests",
    "risk_model__coefficients": "fit the open measure-220 risk model",
    "dbt_models_2": "dbt: models scored with the new risk model",
    "published_tables": "publication",
}


class Laps:
    """Reports each step of a long task with its seconds: `lap("tables built")` -> "tables built (12.3 s)"."""

    def __init__(self, report: Callable[[str], None]):
        self._report = report
        self._last = time.perf_counter()

    def __call__(self, what: str) -> None:
        now = time.perf_counter()
        self._report(f"{what} ({now - self._last:,.1f} s)")
        self._last = now


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


class _StepState:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last_output = self.started
        self.materialized: set[str] = set()  # asset keys (a multi-partition step materializes each per partition)
        self.checks: Counter[str] = Counter()


class ProgressPrinter(logging.Handler):
    def __init__(self, stream: TextIO, check_steps: set[str], heartbeat: float = HEARTBEAT_SECONDS):
        super().__init__(level=logging.DEBUG)
        self._stream = stream
        self._check_steps = check_steps
        self._bold = ("\033[1m", "\033[0m") if stream.isatty() else ("", "")
        self._steps: dict[str, _StepState] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._heartbeat, args=(heartbeat,), daemon=True).start()

    def _print(self, step: str | None, text: str) -> None:
        with self._lock:
            if step in self._steps:
                self._steps[step].last_output = time.perf_counter()
            self._stream.write(f"{time.strftime('%H:%M:%S')}  {text}\n")
            self._stream.flush()

    def _label(self, step: str) -> str:
        return f"{self._bold[0]}{STAGE_LABELS.get(step, step)}{self._bold[1]}"

    def _heartbeat(self, every: float) -> None:
        while not self._stop.wait(min(every, 5.0)):
            now = time.perf_counter()
            with self._lock:
                quiet = [(s, now - st.started) for s, st in self._steps.items() if now - st.last_output >= every]
            for step, elapsed in quiet:
                self._print(step, f"  {self._label(step)} still running ({elapsed:,.0f} s)")

    def close(self) -> None:
        self._stop.set()
        super().close()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        if not meta:
            return
        step, event = meta.get("step_key"), meta.get("dagster_event")
        if event is None:
            # A step's own account of its progress; warnings and errors are the console logger's to show.
            if step in NARRATED_STEPS and record.levelno == logging.INFO:
                self._print(step, f"  {self._label(step)}: {meta.get('orig_message', record.getMessage())}")
            return
        kind = event.event_type
        if kind in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            self._stop.set()
        elif kind == dg.DagsterEventType.STEP_START:
            with self._lock:
                self._steps[step] = _StepState()
            if step not in self._check_steps:
                self._print(step, f"{self._label(step)} ...")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._on_materialization(step, event)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._on_check(step, event.event_specific_data)
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            self._on_step_end(step, kind == dg.DagsterEventType.STEP_SUCCESS)

    def _on_materialization(self, step: str, event) -> None:
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key.to_user_string()
        with self._lock:
            state = self._steps.get(step)
            if state is None or key in state.materialized:
                return
            state.materialized.add(key)
        metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        if "rows_read" in metadata:
            unchanged = metadata.get("unchanged_deliveries") or []
            if unchanged:
                self._print(step, f"  {self._label(step)}: {len(unchanged)} deliveries unchanged since their last "
                                  "load, not loaded again")
            warned = metadata.get("warned_by_rule") or {}
            quarantined = metadata.get("quarantined_by_rule") or {}
            self._print(step, f"  {self._label(step)}: read {_count(metadata['rows_read'])}, loaded "
                              f"{_count(metadata['rows_loaded'])} (with warn-level gaps: "
                              f"{', '.join(f'{k} {_count(v)}' for k, v in warned.items()) or 'none'}), quarantined "
                              f"{_count(metadata['rows_quarantined'])}"
                              + (f" ({', '.join(f'{k} {_count(v)}' for k, v in quarantined.items())})"
                                 if quarantined else ""))
        elif "row_counts" in metadata:
            self._print(step, f"  {self._label(step)}: {len(metadata['row_counts'])} tables, "
                              f"{_count(metadata.get('pages', 0))} pages, {_count(metadata.get('qpp_files', 0))} "
                              "QPP files")

    def _on_check(self, step: str, evaluation) -> None:
        passed = "passed" if evaluation.passed else "failed"
        with self._lock:
            if step in self._steps:
                self._steps[step].checks[passed] += 1
        if not evaluation.passed:
            severity = "blocking" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning"
            key = evaluation.asset_check_key
            why = f": {evaluation.description}" if evaluation.description else ""
            self._print(step, f"  check {key.asset_key.to_user_string()}:{key.name} failed ({severity}){why}")

    def _on_step_end(self, step: str, success: bool) -> None:
        with self._lock:
            state = self._steps.pop(step, None)
        if state is None:
            return
        seconds = time.perf_counter() - state.started
        if step in self._check_steps and success:
            return
        done = "done" if success else "FAILED"
        parts = []
        if state.materialized and step.startswith("dbt_"):
            parts.append(f"{len(state.materialized)} models and seeds")
        if state.checks and step not in self._check_steps:
            parts.append(f"{sum(state.checks.values())} tests ({state.checks['failed']} failed)")
        detail = f": {', '.join(parts)}" if parts else ""
        self._print(step, f"{self._label(step)} {done} in {seconds:,.1f} s{detail}")


@dg.logger(
    config_schema={"check_steps": dg.Field([str], is_required=False, default_value=[])},
    description="One line per stage start and end (seconds), what it processed, failed checks, heartbeats.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("spine_pipeline.progress", level=logging.DEBUG)
    logger.addHandler(ProgressPrinter(sys.stdout, set(init_context.logger_config["check_steps"])))
    return logger


def with_progress(job: dg.JobDefinition, check_steps: set[str], log_level: str) -> tuple[dg.JobDefinition, dict]:
    """The job with the progress logger beside Dagster's console logger (at LOG_LEVEL), and its run config."""
    loggers = {"console": dg.colored_console_logger, "progress": progress_logger}
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}},
                              "progress": {"config": {"check_steps": sorted(check_steps)}}}}
    return job.with_logger_defs(loggers), run_config
