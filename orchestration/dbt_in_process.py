"""dbt run inside the pipeline's own process (DuckDB, and WAREHOUSE=spark with a SparkSession), on a manifest
parsed once per process.

Why in this process (docs/performance.md, "Fixed costs"): a dbt subprocess pays Python's start-up and dbt's
imports (~2 CPU s) and parses the project again (partially, ~1-2 s; in full on a new DATA_DIR, ~5 s) on every
invocation, and a refit invokes dbt twice. Here the project is parsed once (`dbt parse`, partial parsing from
the DATA_DIR's target folder) and the parsed manifest is handed to every later invocation of the process
(dbtRunner(manifest=...)), until a file of the project changes. The run's values (as-of date, TINs) are read by
the models while executing (macros/run_var.sql), never while parsing, so one manifest serves every run.

On Spark, dbt-spark's `session` method runs every statement on `SparkSession.builder.getOrCreate()`, which in this
process is the pipeline's session (orchestration/spark_session.py): one driver and one catalog for the ingestion,
dbt and the checks; a dbt subprocess would start a driver of its own, which an embedded metastore held by this
process would refuse. On DuckDB, dbt-duckdb opens the warehouse file in this process and closes it when dbt ends
(the caller holds the DATA_DIR lock around the invocation, as it did around the subprocess).

On DuckDB a new DATA_DIR need not parse the project in full either (a full parse ~5 s, a partial one with nothing
changed ~1 s): dbt's partial-parse state holds the connection settings, whose warehouse path differs per DATA_DIR,
so this process hashes the path by its file name (the database name dbt derives from it;
`_install_portable_state_check`) and a DATA_DIR without a partial-parse file starts from the last one any DATA_DIR
wrote for this project and target (`_seed_path`). dbt still checks every file's checksum, the vars, the target
and its own version against it and parses what changed (in full when the state differs).

dbt's structured events are the ones `dbt --log-format json` prints, so dagster-dbt turns them into the same
Dagster events (materializations, asset checks) as for a subprocess; their messages are echoed to stdout as
dagster-dbt echoes a subprocess's (`echo=True`).
"""

from __future__ import annotations

import os
import pprint
import queue
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, Settings

_DONE = object()
# The commands that run on a parsed manifest (and so reuse the process's one).
_ON_MANIFEST = {"build", "run", "test", "seed", "compile"}
# (project, target path, target, warehouse, vars) -> (newest project file's mtime, parsed manifest)
_MANIFESTS: dict[tuple, tuple[float, object]] = {}
_MANIFESTS_LOCK = threading.Lock()
PARSES = 0  # dbt parses this process ran (tests/test_fixed_costs.py counts them)


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


def newest_source_mtime(project_dir: Path) -> float:
    """The latest modification time of the files a parse reads (project, profile, models, seeds, macros, tests)."""
    paths = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for sub in ("models", "seeds", "macros", "tests"):
        paths.extend(p for p in (project_dir / sub).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def _prepare(settings: Settings) -> None:
    if settings.is_spark:
        from orchestration.spark_session import export_spark_env, get_spark

        get_spark(settings)  # dbt-spark's getOrCreate() then finds the pipeline's session, with its catalog
        export_spark_env(settings)
    else:
        from orchestration.resources import export_dbt_env

        export_dbt_env(settings)  # profiles.yml reads the warehouse path and memory limit from the environment


def _common_flags(settings: Settings, target_path: Path, project_dir: Path, vars_json: str | None) -> list[str]:
    flags = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--target", settings.dbt_target,
             "--target-path", str(target_path)]
    return flags + (["--vars", vars_json] if vars_json is not None else [])


def _log_flags(settings: Settings, target_path: Path) -> list[str]:
    # --quiet: dbt prints nothing itself (on DuckDB the caller echoes the events, as dagster-dbt does for a
    # subprocess); dbt's log file stays where the subprocess wrote it, as JSON lines (benchmarks/demo_profile.py),
    # every event down to debug. On DuckDB `--log-level none` also drops dbt's console logger, which formatted
    # every event (~7,000 per build) only for --quiet to discard all but errors (~1 CPU s per build), and which
    # the caller's echo replaces; the file keeps its own level.
    if settings.is_spark:
        return ["--quiet", "--log-path", str(target_path / "logs")]
    return ["--quiet", "--log-level", "none", "--log-level-file", "debug", "--log-path", str(target_path),
            "--log-format-file", "json"]


PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's own name, in its target folder


def _seed_path(project_dir: Path, settings: Settings) -> Path:
    """The last partial-parse state an in-process parse of this project and target wrote, whatever its DATA_DIR
    (beside the definitions' own parse, under the project's gitignored target folder)."""
    return project_dir / "target" / "run_parse" / f"{settings.dbt_target}.{PARTIAL_PARSE_FILE}"


def _seed_target(target_path: Path, seed: Path) -> None:
    state = target_path / PARTIAL_PARSE_FILE
    if state.exists() or not seed.exists():
        return
    target_path.mkdir(parents=True, exist_ok=True)
    staged = state.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
    shutil.copyfile(seed, staged)
    os.replace(staged, state)


def _keep_seed(target_path: Path, seed: Path) -> None:
    state = target_path / PARTIAL_PARSE_FILE
    if not state.exists():
        return
    if seed.exists() and seed.stat().st_mtime >= state.stat().st_mtime:
        return
    seed.parent.mkdir(parents=True, exist_ok=True)
    staged = seed.with_name(f".{seed.name}.{os.getpid()}")  # concurrent processes: each replaces it whole
    shutil.copyfile(state, staged)
    os.replace(staged, seed)


_PORTABLE_STATE_CHECK = False


def portable_connection_keys(credentials) -> str:
    """What dbt hashes of the connection settings for its partial-parse state (ManifestLoader.
    build_manifest_state_check: the sorted connection_info, pretty-printed), with DuckDB's path by its file name."""
    keys = sorted((key, Path(value).name if key == "path" and value else value)
                  for key, value in credentials.connection_info())
    return pprint.pformat(keys)


def _install_portable_state_check() -> None:
    """dbt rejects a partial-parse state whose connection settings differ (they may reach the parse through Jinja);
    on DuckDB the warehouse path is one of them, and it differs per DATA_DIR. What a parse can take from the path
    is the database name, its file name without suffix: hash the file name instead of the whole path, so that the
    state of one DATA_DIR serves another of the same project, target, settings and vars. Idempotent."""
    global _PORTABLE_STATE_CHECK
    if _PORTABLE_STATE_CHECK:
        return
    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    original = ManifestLoader.build_manifest_state_check

    def build_manifest_state_check(self):
        state = original(self)
        if self.root_project.credentials.type == "duckdb":
            state.profile_hash = FileHash.from_contents(portable_connection_keys(self.root_project.credentials))
        return state

    ManifestLoader.build_manifest_state_check = build_manifest_state_check
    _PORTABLE_STATE_CHECK = True


def _manifest(settings: Settings, target_path: Path, project_dir: Path, vars_json: str | None, callbacks: list):
    """The process's parsed manifest for this project, target folder and warehouse; parsed (partially, from the
    target folder's state) when there is none yet or a file of the project changed since."""
    global PARSES
    from dbt.cli.main import dbtRunner

    key = (str(project_dir), str(target_path), settings.dbt_target, str(settings.data_dir), vars_json)
    stamp = newest_source_mtime(project_dir)
    with _MANIFESTS_LOCK:
        cached = _MANIFESTS.get(key)
        if cached is not None and cached[0] >= stamp:
            return cached[1]
        # --no-write-json: the builds on this manifest write manifest.json (~0.15 CPU s a write) with what they ran
        args = [*_log_flags(settings, target_path), "parse", "--no-write-json",
                *_common_flags(settings, target_path, project_dir, vars_json)]
        seed = _seed_path(project_dir, settings)
        if not settings.is_spark:
            _install_portable_state_check()
            _seed_target(target_path, seed)
        result = dbtRunner(callbacks=callbacks).invoke(args)
        PARSES += 1
        if not result.success:
            raise DbtFailed(f"dbt {' '.join(args)} failed: {result.exception!r}") from result.exception
        if not settings.is_spark:
            _keep_seed(target_path, seed)
        _MANIFESTS[key] = (stamp, result.result)
        return result.result


def _close_warehouse() -> None:
    """dbt-duckdb keeps its database open for the life of the process (`keep_open`, its default: one open per
    invocation, not one per model); close it when dbt ends, so that the step's own connections (read-only, or
    another configuration, which DuckDB refuses while one is open) and other processes can open the file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


def start_dbt(settings: Settings, args: list[str], target_path: Path, project_dir: Path = DBT_PROJECT_DIR,
              vars_json: str | None = None) -> DbtRun:
    """Start `dbt <args>` on the settings' target in a thread of this process; read its events with .stream()."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    _prepare(settings)
    full = [*_log_flags(settings, target_path), *args,
            *_common_flags(settings, target_path, project_dir, vars_json)]
    run = DbtRun(full)

    def on_event(msg) -> None:
        if msg.info.level == "debug":  # ~90% of dbt's events (each SQL statement...): the log file keeps them
            return
        event = msg_to_dict(msg)
        if event.get("info", {}).get("level") == "error" and event["info"].get("msg"):
            run.errors.append(event["info"]["msg"])
        run.events.put(event)

    def invoke() -> None:
        try:
            # vars in `args` may decide how the project parses: such an invocation parses for itself
            reuse = bool(args) and args[0] in _ON_MANIFEST and "--vars" not in args
            manifest = _manifest(settings, target_path, project_dir, vars_json, [on_event]) if reuse else None
            result = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(full)
            run.success = bool(result.success)
            if result.exception is not None:
                run.exception = result.exception
        except BaseException as exc:  # noqa: BLE001 - reported through raise_on_failure
            run.success, run.exception = False, exc
        finally:
            if not settings.is_spark:
                _close_warehouse()
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


# dbt's console lines: what `dbt --log-format json` prints on stdout (its debug events go to the log file only)
_SHOWN_LEVELS = {"info", "warn", "error"}


def _echo(raw: dict) -> None:
    info = raw.get("info", {})
    if info.get("level") in _SHOWN_LEVELS and info.get("msg") is not None and info.get("name") != "JinjaLogInfo":
        sys.stdout.write(f"{info['msg']}\n")
        sys.stdout.flush()


def dagster_events(context, settings: Settings, args: list[str], target_path: Path, vars_json: str | None = None,
                   echo: bool = False):
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
            if echo:
                _echo(raw)
            event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
            yield from event.to_default_asset_events(manifest=params.manifest,
                                                     dagster_dbt_translator=params.dagster_dbt_translator,
                                                     context=context, target_path=target_path,
                                                     project=params.dbt_project)
    finally:
        if preset is None:
            os.environ.pop("DBT_INDIRECT_SELECTION", None)
    run.raise_on_failure()
