"""Command line for the headless runs behind `make demo`, `make run` and `make ui`, and the operator's exports.

Each subcommand is one row of COMMANDS (name, help, its arguments, the function that runs it); settings come
from orchestration/settings.py (environment, or a settings file given with --config) and are validated before
anything runs. Runs are recorded in a persistent Dagster instance under $DATA_DIR/dagster_home.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.dagster_home import HEADLESS_TAGS, fail_abandoned_headless_runs, write_instance_config
from orchestration.data_dir_lock import DataDirBusy, data_dir_lock
from orchestration.exports import cases, worklist
from orchestration.settings import (
    CONFIG_ENV,
    DEFAULT_SAMPLE_PERSONS,
    DEFAULT_SAMPLE_SEED,
    PROJECT_ROOT,
    SETTINGS,
    Settings,
    SettingError,
    default_sample_dir,
    load_settings,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BUSY = 0, 1, 2, 3
EXIT_CODES = """\
exit codes:
  0  success
  1  a step failed (ingestion, dbt, publication), the run was interrupted (Ctrl-C, SIGTERM: the previous
     publication is kept), no delivery was found, or an export could not be written (export-cases, worklist:
     nothing to export yet, or the warehouse busy)
  2  bad input, nothing was published: an invalid setting or argument (one line on stderr naming it and what
     is accepted; export-cases, worklist: a refused path or option), or a blocking data-quality check failed
     (the previous publication is kept)
  3  run, demo: another run holds DATA_DIR, nothing was done (LOCK_WAIT_SECONDS to wait for it instead)"""

def prepare_dagster_home(settings: Settings) -> Path:
    home = settings.data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    write_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def ensure_sample(settings: Settings) -> None:
    sample = default_sample_dir(settings.data_dir)
    if settings.landing_dir != sample or (sample / "medical_claim").exists():
        return
    from orchestration.sample_data.cli import main as generate

    print(f"Generating the default sample ({DEFAULT_SAMPLE_PERSONS:,} persons) into {sample} ...", flush=True)
    started = time.perf_counter()
    generate(["--persons", str(DEFAULT_SAMPLE_PERSONS), "--seed", str(DEFAULT_SAMPLE_SEED), "--out", str(sample)])
    print(f"Sample generated in {time.perf_counter() - started:,.1f} s.", flush=True)


def _failed_blocking_checks(result) -> list[str]:
    import dagster as dg

    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}" + (f" ({e.description})" if e.description else "")
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]


INTERRUPTED = ("Interrupted (Ctrl-C or SIGTERM): nothing new was published, the previous publication is kept. "
               "Run again: deliveries already loaded are not loaded again.")


def _interrupted(result) -> bool:
    """Whether the run ended because the process was interrupted (Dagster turns SIGINT and SIGTERM into an error
    in the step that was running), rather than because a step failed."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None and error.cls_name == "DagsterExecutionInterruptedError":
            return True
    return False


def _risk_model_versions(settings: Settings) -> list[int]:
    from orchestration.resources import open_warehouse, warehouse_exists
    from orchestration.spark_warehouse import has_table

    if not warehouse_exists(settings):
        return []
    with open_warehouse(settings) as con:
        if not has_table(con, "risk_model", "coefficients"):
            return []
        return [r[0] for r in con.execute("select distinct version from risk_model.coefficients order by 1").fetchall()]


def _bad_input(message: str) -> int:
    print(f"spine-pipeline: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _execute(defs, job_name: str, settings: Settings, **kwargs):
    """Run a job in-process with the console progress lines (orchestration/progress.py)."""
    from orchestration.progress import with_progress

    check_steps = {c.node_def.name for c in defs.asset_checks}
    job, run_config = with_progress(defs.resolve_job_def(job_name), check_steps, settings.log_level)
    return job.execute_in_process(run_config=run_config, raise_on_error=False, **kwargs)


def _busy(exc: DataDirBusy) -> int:
    print(exc, file=sys.stderr)
    return EXIT_BUSY


# What the run's later steps import (docs/performance.md, "Fixed costs", round 4): Great Expectations (~2.6 s, scipy
# and pyspark with it) for the checks, statsmodels for a refit's fit. Ingestion is mostly DuckDB, which releases the
# GIL: imported in a thread meanwhile, on the second core, they are in sys.modules when the checks need them. Nothing
# the main thread imports during ingestion is in these packages, so the two threads never wait on each other's
# module locks; a step that needs a module still being imported waits for it, as any import does.
CHECK_IMPORTS = ("great_expectations", "great_expectations.data_context.types.base", "great_expectations.render.renderer",
                 "great_expectations.render.view")
FIT_IMPORTS = ("statsmodels.api",)
# The publication (orchestration/publish/publisher.py, its site's pages with matplotlib, ~0.5 s): imported by the
# publication step, not by the code location at start-up (round 5), so on the second core during ingestion here.
PUBLISH_IMPORTS = ("orchestration.publish.publisher",)


# Imported on the main thread before the background imports: pyspark.sql.connect.logging (which GX imports) switches
# logging's process-wide logger class to PySparkLogger for an instant while it creates its logger; a Dagster run starting
# meanwhile on the main thread creates its console logger from that class and fails (`PySparkLogger.__init__() got
# an unexpected keyword argument 'level'`: seen once in `make test`). ~0.1 s.
MAIN_THREAD_IMPORTS = ("pyspark.sql.connect.logging",)


def import_in_background(modules: tuple[str, ...]) -> threading.Thread:
    """Import `modules` in a daemon thread (an import that fails is left to the step that needs it); first, on this
    thread, the modules that change process-wide state as they load (MAIN_THREAD_IMPORTS)."""
    for name in MAIN_THREAD_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - pyspark absent or broken: then GX does not import it either
            pass

    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the step importing it reports the error
                return

    thread = threading.Thread(target=run, name="background-imports", daemon=True)
    thread.start()
    return thread


def run_pipeline(settings: Settings, refit: bool = False) -> int:
    """Holds the DATA_DIR lock for the whole run (re-entrant: `demo` already holds it); EXIT_BUSY if another
    process holds it, or a run of the Dagster deployment is in progress on the instance (docs/operations.md).
    Either is waited for up to LOCK_WAIT_SECONDS, without holding the lock meanwhile."""
    deadline = time.monotonic() + settings.lock_wait_seconds
    try:
        while True:
            remaining = max(deadline - time.monotonic(), 0)
            with data_dir_lock(settings.data_dir, remaining, holder="spine-pipeline run"):
                busy = _deployment_busy(settings)
                if busy is None:
                    return _run_pipeline(settings, refit)
            if time.monotonic() >= deadline:
                return _busy(DataDirBusy(busy))
            time.sleep(min(DEPLOYMENT_POLL_SECONDS, max(deadline - time.monotonic(), 0)))
    except DataDirBusy as exc:
        return _busy(exc)
    except KeyboardInterrupt:  # Ctrl-C between the jobs (inside one, Dagster ends the run: _interrupted)
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_FAILED


DEPLOYMENT_POLL_SECONDS = 2.0


def _deployment_busy(settings: Settings) -> str | None:
    """Why this headless run must not start now (a run of the Dagster deployment is in progress), or None."""
    import dagster as dg

    from orchestration.dagster_home import deployment_runs_in_progress

    runs = deployment_runs_in_progress(dg.DagsterInstance.get())
    if not runs:
        return None
    run = runs[0]
    waited = (f"after waiting {settings.lock_wait_seconds:g} s" if settings.lock_wait_seconds > 0
              else "(LOCK_WAIT_SECONDS=0)")
    return (f"DATA_DIR {settings.data_dir} is in use by the Dagster deployment: run {run.run_id} of {run.job_name} "
            f"is {run.status.value.lower()} {waited}: one pipeline run at a time; wait for it to finish (the UI "
            "shows it) or set LOCK_WAIT_SECONDS to wait.")


def _run_pipeline(settings: Settings, refit: bool) -> int:
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.ingest.accounting import not_read_warning
    from orchestration.ingest.discovery import discover_deliveries, register_deliveries

    if not settings.landing_dir.is_dir():
        return _bad_input(f"LANDING_DIR={settings.landing_dir}: the folder does not exist")
    versions = _risk_model_versions(settings)
    if settings.risk_model_version is not None:
        if refit:
            return _bad_input("--refit fits a new risk-model version; RISK_MODEL_VERSION pins an existing one: "
                              "use one or the other")
        if settings.risk_model_version not in versions:
            return _bad_input(f"RISK_MODEL_VERSION={settings.risk_model_version}: no such version in "
                              f"{settings.warehouse_path} (versions: {', '.join(map(str, versions)) or 'none yet'})")
    instance = dg.DagsterInstance.get()
    fail_abandoned_headless_runs(instance)
    deliveries = discover_deliveries(settings.landing_dir)
    for line in not_read_warning(settings.landing_dir):
        print(line, file=sys.stderr)
    if not deliveries:
        print(f"No delivery files under {settings.landing_dir} (see docs/data_contract.md).", file=sys.stderr)
        return EXIT_FAILED
    register_deliveries(instance, settings.landing_dir)
    # A range follows the instance's partition order (order of registration), not the sort order.
    keys = [k for k in instance.get_dynamic_partitions("delivery") if k in deliveries]
    job = "refit_job" if refit or not versions else "refresh_job"
    import_in_background(CHECK_IMPORTS + (FIT_IMPORTS if job == "refit_job" else ()) + PUBLISH_IMPORTS)
    started = time.perf_counter()
    print(f"Ingesting {len(keys)} deliveries from {settings.landing_dir} ...", flush=True)
    ingest = _execute(
        defs, "ingest_job", settings, instance=instance,
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1],
              **HEADLESS_TAGS},
    )
    if not ingest.success:
        print(INTERRUPTED if _interrupted(ingest) else "Ingestion failed; see the run's logs above (or `make ui`).",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"Running {job}: dbt models, data-quality checks, publication ...", flush=True)
    refresh = _execute(defs, job, settings, instance=instance, tags=HEADLESS_TAGS)
    failed_checks = _failed_blocking_checks(refresh)
    seconds = time.perf_counter() - started
    if failed_checks:
        print("Blocking data-quality checks failed; the previous publication was kept:", file=sys.stderr)
        for name in failed_checks:
            print(f"  - {name}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not refresh.success:
        print(INTERRUPTED if _interrupted(refresh) else "The refresh run failed; see the run's logs above (or "
              "`make ui`).", file=sys.stderr)
        return EXIT_FAILED
    try:
        print_summary(settings, len(keys), seconds)
    except KeyboardInterrupt:  # not INTERRUPTED: the run itself is done and published
        print("Interrupted while printing the summary: the run finished and its publication is in place.",
              file=sys.stderr)
    return EXIT_OK


SUMMARY_SQL = """
    select measure_id, performance_year, cases, pending, not_eligible, excluded, eligible_population, met, not_met,
           not_measured, performance_rate_pct
    from measure_performance
    where entity_level = 'all' and stratum = 'all'
    order by measure_id, performance_year
"""


LEDGER_SQL = """
    with latest as (
        select * from raw._deliveries
        qualify row_number() over (partition by table_name, source_file order by loaded_at desc) = 1
    )
    select table_name, count(*) as files, sum(rows_read)::bigint as rows_read,
           sum(rows_loaded)::bigint as rows_loaded, sum(rows_quarantined)::bigint as rows_quarantined,
           count_if(status <> 'loaded')::bigint as files_skipped
    from latest group by table_name order by table_name
"""


def _by_rule(con, table: str, kind: str) -> str:
    rows = con.execute(f"select rule, count(*) from raw.{table}__{kind} group by 1 order by 2 desc, 1").fetchall()
    return ", ".join(f"{rule} {n:,}" for rule, n in rows)


# Every dated row the as-of date applies to: claim lines (their service date) and observations
_DATED_ROWS = """
    select coalesce(claim_line_start_date, claim_start_date) as d from raw.medical_claim
    union all select observation_date from raw.observation"""


def as_of_lines(con, settings: Settings) -> list[str]:
    """Which as-of date the published figures are for and why, and a warning when it leaves out every date
    loaded (an AS_OF_DATE before the data publishes empty tables) or some of them (data after it are ignored).
    One pass over the dated rows (a second for the default date, resolve_as_of_date's own)."""
    from orchestration.resources import resolve_as_of_date

    later = f"count(*) filter (where d > date '{settings.as_of_date.isoformat()}')" if settings.as_of_date else "0"
    first, last, later = con.execute(
        f"select min(d), max(d), {later} from ({_DATED_ROWS}) as dated").fetchone()
    if last is None:
        return []
    as_of = date.fromisoformat(resolve_as_of_date(con, settings))
    why = "AS_OF_DATE" if settings.as_of_date else "the latest date loaded"
    lines = [f"As of {as_of} ({why}); the data loaded are dated {first} to {last}."]
    if not settings.as_of_date and as_of > date.today():
        lines.append(f"  Warning: the latest date loaded is after today ({date.today()}): a date typed wrong? Every "
                     "window and case status is as of it. Set AS_OF_DATE to choose the date.")
    if as_of < first:
        lines.append(f"  Warning: the as-of date is before every date loaded: nothing was measured or counted, "
                     f"the code and measure tables are published empty. Set AS_OF_DATE between {first} and {last}.")
    elif later:
        lines.append(f"  {later:,} claim lines and observations dated after it are left out.")
    return lines


def print_summary(settings: Settings, deliveries: int, seconds: float) -> None:
    import duckdb

    from orchestration.contract import TABLES
    from orchestration.ingest.accounting import landing_summary
    from orchestration.resources import open_warehouse

    print(f"\nMaterialized {deliveries} deliveries from {settings.landing_dir} in {seconds:,.0f} s.")
    with open_warehouse(settings) as con:
        print("\n".join(as_of_lines(con, settings)))
        print("Rows read = loaded + quarantined (reasons in raw.<table>__quarantine):")
        print(con.execute(LEDGER_SQL).df().rename(columns={"table_name": "table"}).to_string(index=False))
        for table in TABLES:
            quarantined, warned = _by_rule(con, table, "quarantine"), _by_rule(con, table, "warnings")
            if quarantined:
                print(f"  {table}: quarantined by rule: {quarantined}")
            if warned:
                print(f"  {table}: loaded with warn-level gaps (raw.{table}__warnings), by rule: {warned}")
        print("\n".join(landing_summary(con, settings.landing_dir)))
    if settings.published_db_path.exists():
        with duckdb.connect(str(settings.published_db_path), read_only=True) as con:
            tables = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_name not like '\\_%' escape '\\' "
                "order by 1").fetchall()]
            print(f"Published {len(tables)} tables: {', '.join(tables)}")
            print("\nMeasure performance, all entities (blank = suppressed small cell):")
            performance = con.execute(SUMMARY_SQL).df()
            print(performance.convert_dtypes().astype("string").fillna("").to_string(index=False)
                  if len(performance) else "  (no cases for any measure in the data)")
    with open_warehouse(settings) as con:
        print("\nFollow-up worklist (cases per measure and status; `spine-pipeline worklist OUT.csv` exports it):")
        print("\n".join(f"  {m:>4} {status:<24} {n:>7,}" for m, status, n in worklist.status_counts(con)) or "  (empty)")
    print(f"\nPublication site: {settings.published_dir / 'site' / 'index.html'} (open it in a browser)")
    print(f"Analysts: {settings.published_db_path} (read-only) and {settings.published_dir}/ (parquet)")
    print(f"QPP submissions: {settings.data_dir / 'qpp_submissions'}/")
    print(f"Warehouse (pipeline only; case-level table marts.measure_cases, `spine-pipeline export-cases`): "
          f"{settings.spark_warehouse_dir + ' (Spark)' if settings.is_spark else settings.warehouse_path}")
    print(f"Data docs: {settings.data_docs_dir} (served on http://127.0.0.1:{settings.data_docs_port}/ by make ui)"
          "   UI: make ui")


def print_config(settings: Settings) -> int:
    width = max(len(s.name) for s in SETTINGS)
    for setting in SETTINGS:
        print(f"{setting.name:<{width}}  {settings.shown(setting):<40}  ({settings.sources[setting.name]})")
    return EXIT_OK


UI_PORT = 3000


def _ui(settings: Settings, port: int = UI_PORT) -> int:
    import signal

    prepare_dagster_home(settings)
    os.environ.update(settings.environment())  # relative paths resolved here, before the UI starts elsewhere
    dagster = Path(sys.executable).with_name("dagster")
    # The checks link their Data Docs pages on this server; it shares the terminal's process group, so Ctrl-C
    # ends it with the UI, and it ends by itself when the UI's process does (session 10: it outlived a UI that
    # stopped after its daemon was killed, and kept the port from the next start).
    subprocess.Popen([sys.executable, "-m", "orchestration.quality.data_docs_server", str(settings.data_docs_dir),
                      str(settings.data_docs_port), str(os.getpid())])
    print(f"Data Docs: http://127.0.0.1:{settings.data_docs_port}/", flush=True)
    os.chdir(PROJECT_ROOT)
    # A shell starting a command in the background (`spine-pipeline ui &` in a script) starts it with SIGINT
    # ignored; `dagster dev` maps SIGTERM to SIGINT's handler, so SIGTERM was ignored too and the deployment could
    # only be stopped with kill -9 (session 10). Handled signals are reset by exec, ignored ones are not.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.execv(str(dagster), [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)])
    return EXIT_FAILED  # not reached


def _run(args: argparse.Namespace, settings: Settings) -> int:
    prepare_dagster_home(settings)
    return run_pipeline(settings, refit=args.refit)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with data_dir_lock(settings.data_dir, settings.lock_wait_seconds, holder="spine-pipeline demo"):
            ensure_sample(settings)  # written under DATA_DIR too
            return _run(args, settings)
    except DataDirBusy as exc:
        return _busy(exc)


def _add_refit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--refit", action="store_true",
                        help="fit a new open measure-220 risk-model version first (default: only when none exists)")


def _add_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=UI_PORT, help=f"the UI's port (default {UI_PORT})")


def _add_worklist(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", nargs="?", metavar="OUT.csv", help="the CSV file to write")
    worklist.add_arguments(parser)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


COMMANDS: tuple[Command, ...] = (
    Command("demo", "generate the bundled sample into DATA_DIR/sample if missing, then `run` on it",
            _demo, _add_refit),
    Command("run", "ingest every delivery in LANDING_DIR, then refresh the dbt models, data-quality checks and "
            "the publication; prints each stage as it goes and a summary",
            _run, _add_refit),
    Command("ui", "the Dagster deployment (dagster dev: the UI on http://127.0.0.1:3000 and the daemon that runs the "
            "sensors, the automation and the schedules), on the same DAGSTER_HOME and settings",
            lambda args, settings: _ui(settings, args.port), _add_port),
    Command("config", "print the effective settings and where each came from (default / env / file)",
            lambda args, settings: print_config(settings)),
    Command("export-cases", "write the case-level table marts.measure_cases (person identifiers: for operators, "
            "never published) to a CSV file", cases.export_cases_command, cases.add_export_cases_arguments),
    Command("worklist", "write the follow-up worklist for the clinics: open cases still missing a score (patient "
            "identifiers: never under the published outputs; docs/worklist.md)",
            lambda args, settings: worklist.run(settings, args.out, args.tin, args.due_within), _add_worklist),
)


def _settings_help() -> str:
    lines = ["settings (environment variables, or the same names in a settings file given with --config;",
             "an environment variable that is set and not empty wins over the file):"]
    for s in SETTINGS:
        lines.append(f"  {s.name}: {s.help}")
        lines.append(f"      accepted: {s.accepted}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    epilog = f"{_settings_help()}\n\n{EXIT_CODES}"
    parser = argparse.ArgumentParser(
        prog="spine-pipeline", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog,
        description="Quality-data codes of MIPS 459/461/471 and 220 from Tuva-format claims: Dagster + dbt "
                    "(DuckDB) + Great Expectations.")
    config_help = (f"a settings file (.toml, .yaml): NAME = value lines with the setting names below "
                   f"(also read from ${CONFIG_ENV})")
    parser.add_argument("--config", type=Path, metavar="FILE", help=config_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS, help=config_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help, parents=[common],
                                  formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog)
        command.arguments(sub)
    return parser


def _quiet_library_warnings(settings: Settings) -> None:
    # Dagster's beta/preview notices are for library authors, not for whoever runs the pipeline; they are raised
    # where the project calls the API (orchestration/automation.py, jobs.py), so they are matched by category.
    from dagster_shared.utils.warnings import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=UserWarning, message=".*resolve_job_def.*")
    if not settings.is_spark:
        # Great Expectations imports pyspark's compatibility module in a DuckDB run too; pyspark then warns about
        # the pandas version, which only the Spark warehouse hands to it.
        warnings.filterwarnings("ignore", category=FutureWarning, message="PySpark does not yet fully support pandas")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.config:
        # The settings file reaches every later load_settings() (resources, the UI's code server) through here.
        os.environ[CONFIG_ENV] = str(args.config.expanduser().resolve())
    try:
        settings = load_settings()
    except SettingError as exc:
        return _bad_input(str(exc))
    _quiet_library_warnings(settings)
    command = next(c for c in COMMANDS if c.name == args.command)
    return command.run(args, settings)


# The young generation's threshold of the cyclic garbage collector in the `spine-pipeline` process (Python's
# default: 700 allocations). A run holds ~700k long-lived objects (Dagster's definitions, dbt's manifest); with
# the default, the collector ran ~3,500 times per demo and rescanned all of them a dozen times (~3-4 s).
GC_YOUNG_THRESHOLD = 50_000


def program() -> int:
    """The `spine-pipeline` executable: main() in a process that ends when it returns (docs/performance.md,
    "Fixed costs", round 3): collections are rarer (GC_YOUNG_THRESHOLD), and the process ends without the
    interpreter's teardown (end_process)."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    code = main()
    end_process(code)
    return code  # another thread still runs: the interpreter's own exit waits for it


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: as at the interpreter's exit, nothing to do
            pass


def end_process(code: int) -> None:
    """End the process as the interpreter would, without its teardown. The teardown's collections rescanned every
    object left (Dagster's definitions, dbt's manifest) only to free memory the end of the process frees anyway:
    ~3-4 s after the summary. What the teardown does that matters runs first: the exit handlers (`atexit`: the
    event log's SQLite files closed and checkpointed, logging flushed, a local Spark driver's JVM ended) and the
    standard streams flushed; every warehouse connection is closed by then (each is opened in a `with`). While
    another non-daemon thread runs, this returns and the interpreter's exit waits for it as usual."""
    import atexit

    if any(t is not threading.main_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    _flush_standard_streams()
    atexit._run_exitfuncs()  # what the interpreter runs at exit, in the same order
    _flush_standard_streams()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(program())
