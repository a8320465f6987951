"""Command line for the headless runs behind `make demo`, `make run` and `make ui`.

    spine-pipeline demo   generate the bundled sample if missing, then `run` on it
    spine-pipeline run    ingest every delivery in LANDING_DIR, then refresh models, checks and publication
                          (--refit: fit a new open risk-model version first; done anyway when none exists)
    spine-pipeline ui     dagster dev on the same DAGSTER_HOME, so the runs above show in the UI
    spine-pipeline worklist OUT.csv [--tin T] [--due-within DAYS]
                          write the follow-up worklist for the clinics (patient identifiers: never published)

Runs are recorded in a persistent Dagster instance under $DATA_DIR/dagster_home.
Exit codes: 0 success, 1 a step failed, 2 a blocking data-quality check failed (nothing was published),
3 another run holds DATA_DIR (nothing was done; LOCK_WAIT_SECONDS to wait for it instead).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from orchestration.dagster_home import HEADLESS_TAG, fail_abandoned_headless_runs, write_instance_config
from orchestration.data_dir_lock import DataDirBusy, data_dir_lock
from orchestration.exports import worklist
from orchestration.settings import (
    DEFAULT_SAMPLE_PERSONS,
    DEFAULT_SAMPLE_SEED,
    PROJECT_ROOT,
    Settings,
    default_sample_dir,
    load_settings,
)

EXIT_BUSY = 3


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
    generate(["--persons", str(DEFAULT_SAMPLE_PERSONS), "--seed", str(DEFAULT_SAMPLE_SEED), "--out", str(sample)])


def _failed_blocking_checks(result) -> list[str]:
    import dagster as dg

    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}" + (f" ({e.description})" if e.description else "")
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]


def _console_log_config() -> dict:
    """Console shows warnings and errors (LOG_LEVEL to change); every event is in the run's log (make ui)."""
    level = os.environ.get("LOG_LEVEL", "WARNING").upper()
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def _has_risk_model_version(settings: Settings) -> bool:
    import duckdb

    if not settings.warehouse_path.exists():
        return False
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'risk_model' and table_name = 'coefficients'"
        ).fetchone()[0]
        return bool(exists) and con.execute("select count(*) from risk_model.coefficients").fetchone()[0] > 0


def run_pipeline(settings: Settings, refit: bool = False) -> int:
    """Raises DataDirBusy when another process holds DATA_DIR (re-entrant: main() already holds it)."""
    with data_dir_lock(settings.data_dir, settings.lock_wait_seconds, holder="spine-pipeline run"):
        return _run_pipeline(settings, refit)


def _run_pipeline(settings: Settings, refit: bool) -> int:
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.ingest.accounting import not_read_warning
    from orchestration.ingest.discovery import discover_deliveries, register_deliveries

    if not settings.landing_dir.exists():
        print(f"LANDING_DIR {settings.landing_dir} does not exist.", file=sys.stderr)
        return 1
    instance = dg.DagsterInstance.get()
    fail_abandoned_headless_runs(instance)
    deliveries = discover_deliveries(settings.landing_dir)
    for line in not_read_warning(settings.landing_dir):
        print(line, file=sys.stderr)
    if not deliveries:
        print(f"No delivery files under {settings.landing_dir} (see docs/data_contract.md).", file=sys.stderr)
        return 1
    register_deliveries(instance, settings.landing_dir)
    # A range follows the instance's partition order (order of registration), not the sort order.
    keys = [k for k in instance.get_dynamic_partitions("delivery") if k in deliveries]
    started = time.perf_counter()
    print(f"Ingesting {len(keys)} deliveries from {settings.landing_dir} ...", flush=True)
    ingest = defs.get_job_def("ingest_job").execute_in_process(
        instance=instance,
        run_config=_console_log_config(),
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1],
              HEADLESS_TAG[0]: HEADLESS_TAG[1]},
        raise_on_error=False,
    )
    if not ingest.success:
        print("Ingestion failed; see the run's logs above (or `make ui`).", file=sys.stderr)
        return 1
    job = "refit_job" if refit or not _has_risk_model_version(settings) else "refresh_job"
    print(f"Running {job}: dbt models, data-quality checks, publication ...", flush=True)
    refresh = defs.get_job_def(job).execute_in_process(
        instance=instance, run_config=_console_log_config(), raise_on_error=False, tags=dict([HEADLESS_TAG])
    )
    failed_checks = _failed_blocking_checks(refresh)
    seconds = time.perf_counter() - started
    if failed_checks:
        print("Blocking data-quality checks failed; the previous publication was kept:", file=sys.stderr)
        for name in failed_checks:
            print(f"  - {name}", file=sys.stderr)
        return 2
    if not refresh.success:
        print("The refresh run failed; see the run's logs above (or `make ui`).", file=sys.stderr)
        return 1
    print_summary(settings, len(keys), seconds)
    return 0


SUMMARY_SQL = """
    select measure_id, performance_year, cases, pending, excluded, eligible_population, met, not_met,
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
    select table_name as "table", count(*) as files, sum(rows_read)::bigint as rows_read,
           sum(rows_loaded)::bigint as rows_loaded, sum(rows_quarantined)::bigint as rows_quarantined,
           count_if(status <> 'loaded')::bigint as files_skipped
    from latest group by table_name order by table_name
"""


def print_summary(settings: Settings, deliveries: int, seconds: float) -> None:
    import duckdb

    from orchestration.ingest.accounting import landing_summary

    print(f"\nMaterialized {deliveries} deliveries from {settings.landing_dir} in {seconds:,.0f} s.")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        print("Rows read = loaded + quarantined (reasons in raw.<table>__quarantine):")
        print(con.execute(LEDGER_SQL).df().to_string(index=False))
        print("\n".join(landing_summary(con, settings.landing_dir)))
    if settings.published_db_path.exists():
        with duckdb.connect(str(settings.published_db_path), read_only=True) as con:
            tables = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_name not like '\\_%' escape '\\' "
                "order by 1").fetchall()]
            print(f"Published {len(tables)} tables: {', '.join(tables)}")
            print("\nMeasure performance, all entities (blank = suppressed small cell):")
            print(con.execute(SUMMARY_SQL).df().convert_dtypes().astype("string").fillna("").to_string(index=False))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        print("\nFollow-up worklist (cases per measure and status; `spine-pipeline worklist OUT.csv` exports it):")
        print("\n".join(f"  {m:>4} {status:<24} {n:>7,}" for m, status, n in worklist.status_counts(con)) or "  (empty)")
    print(f"\nAnalysts: {settings.published_db_path} (read-only) and {settings.published_dir}/ (parquet, pages/)")
    print(f"QPP submissions: {settings.data_dir / 'qpp_submissions'}/")
    print(f"Warehouse (pipeline only; case-level table marts.measure_cases): {settings.warehouse_path}")
    print(f"Data docs: {settings.data_docs_dir}   UI: make ui")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spine-pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["demo", "run", "ui", "worklist"])
    parser.add_argument("out", nargs="?", help="worklist: the CSV file to write (never under the published outputs)")
    parser.add_argument("--refit", action="store_true",
                        help="fit a new open risk-model version (default: only when none exists yet)")
    worklist.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.command != "worklist" and (args.out or args.tin or args.due_within is not None):
        parser.error("OUT.csv, --tin and --due-within belong to the worklist command")
    # Dagster's beta/preview notices are for library authors, not for whoever runs the pipeline.
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", category=UserWarning, message=".*resolve_job_def.*")
    settings = load_settings()
    if args.command == "worklist":
        return worklist.run(settings, args.out, args.tin, args.due_within)
    prepare_dagster_home(settings)
    if args.command == "ui":
        dagster = Path(sys.executable).with_name("dagster")
        os.chdir(PROJECT_ROOT)
        os.execv(str(dagster), [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", "3000"])
    try:
        with data_dir_lock(settings.data_dir, settings.lock_wait_seconds, holder=f"spine-pipeline {args.command}"):
            if args.command == "demo":
                ensure_sample(settings)
            return run_pipeline(settings, refit=args.refit)
    except DataDirBusy as exc:
        print(exc, file=sys.stderr)
        return EXIT_BUSY


if __name__ == "__main__":
    sys.exit(main())
