"""One real pipeline run per test session: generated deliveries (with defects) -> ingest -> dbt -> risk model ->
dbt -> GX checks -> publish, through `orchestration.run.run_pipeline`, the entry point behind `make demo`.

Size: 8,000 persons over 18 months (fixed seed) is the smallest sample found where every quality-data code of
459 and 220 occurs and the G2137 page has a figure (a quarter with more than 10 claim lines, so unsuppressed);
a shorter window packs more surgeries into each quarter than more persons over the default 30 months would.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

import orchestration.definitions
from orchestration.publish.swap import current_version
from orchestration.resources import build_resources
from orchestration.run import prepare_dagster_home, run_pipeline
from orchestration.sample_data.cli import generate
from orchestration.settings import Settings, load_settings

PERSONS = 8_000
SEED = 7
DEFECT_RATE = 0.01
WINDOW = ("2024-01-01", "2025-06-30")


@dataclass(frozen=True)
class PipelineRun:
    settings: Settings
    exit_code: int
    generated_rows: dict[str, int]


def definitions_for(settings: Settings, jobs: list | None = None) -> dg.Definitions:
    """The project's assets and checks bound to another DATA_DIR (the module-level `defs` binds the one
    set when it was first imported, which may be another test's)."""
    defs = orchestration.definitions.defs
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=[*defs.jobs, *(jobs or [])],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


def run_real_pipeline(root: Path, persons: int = PERSONS, window: tuple[str, str] = WINDOW,
                      defect_rate: float = DEFECT_RATE, env: dict[str, str] | None = None) -> PipelineRun:
    landing, data_dir = root / "landing", root / "data"
    generated = generate(persons, SEED, landing, defect_rate=defect_rate, start=window[0], end=window[1])
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "DATA_DIR": str(data_dir), "LANDING_DIR": str(landing), "AS_OF_DATE": "",
            "DAGSTER_HOME": str(data_dir / "dagster_home"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "true",
            # build_resources exports these for dbt's profile; set here so they are restored afterwards
            "WAREHOUSE_PATH": str(data_dir / "warehouse.duckdb"), "DUCKDB_MEMORY_LIMIT": "4GB",
            **(env or {}),
        }.items():
            mp.setenv(name, value)
        settings = load_settings()
        prepare_dagster_home(settings)
        mp.setattr(orchestration.definitions, "defs", definitions_for(settings))
        exit_code = run_pipeline(settings)
    return PipelineRun(settings=settings, exit_code=exit_code, generated_rows=generated)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> PipelineRun:
    return run_real_pipeline(tmp_path_factory.mktemp("e2e"))


def published_fingerprint(settings: Settings) -> dict[str, str]:
    """Which version is live, and the bytes of every file in it (database, parquet, pages, QPP)."""
    current = current_version(settings.data_dir)
    files = sorted(p for p in current.root.rglob("*") if p.is_file())
    fingerprint = {p.relative_to(current.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    fingerprint["current ->"] = os.readlink(settings.data_dir / "current")
    return fingerprint
