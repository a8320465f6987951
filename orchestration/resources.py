"""Resources shared by the assets: the warehouse connection and the dbt CLI."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject

from orchestration.data_dir_lock import DataDirBusy, data_dir_lock
from orchestration.settings import DBT_PROJECT_DIR, Settings, load_settings

# The Dagster concurrency pool of every step that opens the warehouse (limit 1: DATA_DIR/dagster_home/dagster.yaml).
WAREHOUSE_POOL = "warehouse"


def export_dbt_env(settings: Settings) -> None:
    """profiles.yml reads the target, the warehouse path, memory limit, dbt threads (and Spark's settings) from the
    environment."""
    os.environ["WAREHOUSE_PATH"] = str(settings.warehouse_path)
    os.environ["DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit
    os.environ["DBT_THREADS"] = str(settings.dbt_threads)
    os.environ["DBT_TARGET"] = settings.dbt_target
    if settings.is_spark:
        from orchestration.spark_session import export_spark_env

        export_spark_env(settings)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: the DuckDB file under DATA_DIR, or (WAREHOUSE=spark) the process's SparkSession behind the
    same small connection interface (orchestration/spark_warehouse.py). One process at a time on DuckDB: every
    connection, and every dbt invocation, holds the DATA_DIR lock (orchestration/data_dir_lock.py) while the file
    is open; a local Spark driver with the embedded metastore holds it for as long as its session lives."""

    data_dir: str = ""
    memory_limit: str = "4GB"
    threads: int = 2

    @property
    def settings(self) -> Settings:
        env = dict(os.environ)
        if self.data_dir:
            env["DATA_DIR"] = self.data_dir
        return load_settings(env)

    @contextmanager
    def locked(self) -> Iterator[Settings]:
        """Hold the DATA_DIR lock (re-entrant: the headless run already holds it around its in-process jobs)."""
        settings = self.settings
        try:
            with data_dir_lock(settings.data_dir, settings.lock_wait_seconds, holder="a Dagster step"):
                yield settings
        except DataDirBusy as exc:
            raise dg.Failure(description=str(exc)) from exc

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.settings.is_spark:
            with self.locked() as settings:
                yield spark_connection(settings)
            return
        with self.locked() as settings:
            settings.spill_dir.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(settings.warehouse_path), read_only=read_only)
            try:
                con.execute(f"SET memory_limit = '{self.memory_limit}'")
                con.execute(f"SET threads = {int(self.threads)}")
                con.execute(f"SET temp_directory = '{settings.spill_dir}'")
                # As in the dbt profile: every query that needs an order says ORDER BY, and loading a delivery
                # is about a fifth faster when DuckDB may write rows in any order (docs/performance.md).
                con.execute("SET preserve_insertion_order = false")
                yield con
            finally:
                con.close()


def spark_connection(settings: Settings):
    """The Spark warehouse of `settings` (starts the process's session on first use)."""
    from orchestration.spark_session import get_spark
    from orchestration.spark_warehouse import SparkConnection

    try:
        return SparkConnection(get_spark(settings))
    except DataDirBusy as exc:
        raise dg.Failure(description=str(exc)) from exc


@contextmanager
def open_warehouse(settings: Settings, read_only: bool = True) -> Iterator:
    """The warehouse for the command line outside a Dagster run (the run summary, the exports): the DuckDB file,
    or the process's Spark session (started here, or the run's own)."""
    if settings.is_spark:
        yield spark_connection(settings)
        return
    with duckdb.connect(str(settings.warehouse_path), read_only=read_only) as con:
        yield con


def warehouse_exists(settings: Settings) -> bool:
    return (settings.data_dir / "spark").is_dir() if settings.is_spark else settings.warehouse_path.exists()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource, used on a Spark Thrift server only (DuckDB and a SparkSession run dbt in this
    process: orchestration/dbt_in_process.py), without the `dbt --version` subprocess it starts before each
    invocation: the version of the installed dbt-core is known."""

    @property
    def _cli_version(self):
        from importlib.metadata import version as installed

        from packaging import version

        return version.parse(installed("dbt-core"))


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    export_dbt_env(settings)
    return {
        "warehouse": WarehouseResource(
            data_dir=str(settings.data_dir),
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        ),
        # The venv's own dbt, so the pipeline works without activating the venv.
        "dbt": ProjectDbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(DBT_PROJECT_DIR),
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
    }


def resolve_as_of_date(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """AS_OF_DATE when set; otherwise the latest service or observation date loaded (data after it are ignored). Not
    capped at today: the figures of the same data must not depend on the machine's clock; the run summary warns
    when the date is in the future (run.as_of_lines)."""
    if settings.as_of_date:
        return settings.as_of_date.isoformat()
    latest = con.execute(
        """
        select max(d) from (
            select max(coalesce(claim_line_start_date, claim_start_date)) as d from raw.medical_claim
            union all
            select max(observation_date) from raw.observation
        )
        """
    ).fetchone()[0]
    if latest is None:
        raise dg.Failure("AS_OF_DATE is not set and the warehouse holds no dated claims or observations yet.")
    return latest.isoformat()
