"""Shared test helpers: throwaway warehouses and dbt runs isolated from the shared dbt_project/target."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.risk_model import ensure_coefficients_table
from orchestration.ingest.ledger import create_ledger
from orchestration.raw_schema import create_raw_tables

# The real pipeline run (e2e_support.pipeline_run) is a session fixture registered once, here: a module that
# imported it would get a fixture of its own and run the whole pipeline again.
pytest_plugins = ["e2e_support"]

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"


def process_scratch(prefix: str) -> Path:
    """A temporary folder that lives as long as this test process (a cache shared by its tests), removed at exit:
    pytest's own tmp_path is per test, and a bare mkdtemp left one folder per worker and run behind."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def duckdb_dbt_env(warehouse: Path, root: Path) -> dict[str, str]:
    """The environment of a `dbt` subprocess on the DuckDB file `warehouse`, its target and logs under `root`. The
    target is named: a Spark test earlier in the same process exports DBT_TARGET=spark (resources.export_dbt_env),
    which dbt would otherwise inherit."""
    return {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
        "DBT_TARGET": "duckdb",
        "WAREHOUSE_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }


class DbtWarehouse:
    """A DuckDB warehouse in a temporary directory with raw tables, and dbt runs against it (the project's dbt
    project, or a copy of it)."""

    def __init__(self, root: Path, project: Path = DBT_PROJECT):
        self.path = root / "warehouse.duckdb"
        self.project = project
        self.env = duckdb_dbt_env(self.path, root)
        with duckdb.connect(str(self.path)) as con:
            create_raw_tables(con)
            create_ledger(con)  # read by the incremental claim staging (a dbt source)
            # dbt's risk_model source must resolve; the fit itself is not under test here.
            ensure_coefficients_table(con)

    def execute(self, sql: str) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        dbt = Path(sys.executable).with_name("dbt")
        result = subprocess.run(
            [str(dbt), *args, "--project-dir", str(self.project), "--profiles-dir", str(self.project)],
            env=self.env, capture_output=True, text=True,
        )
        assert result.returncode == 0, f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        return result


@pytest.fixture
def dbt_warehouse(tmp_path: Path) -> DbtWarehouse:
    return DbtWarehouse(tmp_path)


class SparkWarehouse:
    """WAREHOUSE=spark on a local SparkSession under a temporary DATA_DIR: one per test session (the JVM's start-up
    is about 9 s), used by the tests marked `spark`; `reset()` empties the catalog between tests."""

    SCHEMAS = ("raw", "staging", "intermediate", "marts", "reference", "reporting", "risk_model")

    def __init__(self, data_dir: Path):
        from orchestration.settings import load_settings
        from orchestration.spark_session import get_spark

        self.settings = load_settings({"WAREHOUSE": "spark", "DATA_DIR": str(data_dir)})
        self.spark = get_spark(self.settings)

    @property
    def con(self):
        from orchestration.spark_warehouse import SparkConnection

        return SparkConnection(self.spark)

    def reset(self) -> None:
        for schema in self.SCHEMAS:
            self.spark.sql(f"drop database if exists {schema} cascade")
        create_raw_tables(self.con)
        ensure_coefficients_table(self.con)

    def dbt(self, *args: str) -> None:
        """dbt in this process on the session (as the pipeline runs it); raises when dbt does not succeed."""
        from orchestration.dbt_in_process import run_dbt

        run_dbt(self.settings, list(args), self.settings.data_dir / "dbt_target")


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory) -> SparkWarehouse:
    from orchestration.spark_session import stop_spark

    warehouse = SparkWarehouse(tmp_path_factory.mktemp("spark_data"))
    yield warehouse
    stop_spark()


@pytest.fixture
def one_delivery_settings(tmp_path: Path, monkeypatch):
    """The settings of a DATA_DIR with its Dagster home prepared and a landing folder of one (header-only) claims
    delivery, for tests of the run's orchestration that stub its jobs."""
    from orchestration.run import prepare_dagster_home
    from orchestration.settings import load_settings

    landing = tmp_path / "landing" / "medical_claim"
    landing.mkdir(parents=True)
    (landing / "medical_claim_2024-01.csv").write_text("claim_id\n")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LANDING_DIR", str(tmp_path / "landing"))
    settings = load_settings()
    prepare_dagster_home(settings)
    return settings
