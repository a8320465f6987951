"""dbt models as Dagster assets, in two groups around the Python risk-model fit.

`dbt_core_models` builds staging, intermediate and everything that does not need the open risk model;
`risk_model_coefficients` (orchestration/assets/risk_model.py) fits on their output; `dbt_scored_models`
then builds every model downstream of the `risk_model` source (measure 220 scoring, measure_cases, marts).
dbt tests become asset checks (dagster-dbt does this).
"""

# No `from __future__ import annotations`: @dbt_assets checks the `context` annotation as a real type and
# rejects the string "dg.AssetExecutionContext" that postponed annotations would give it.
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_in_process import dagster_events
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource, dbt_project, resolve_as_of_date

SCORED_SELECTION = "source:risk_model+"
# Unit tests test the code, with fixtures whose dates and vars are their own: a materialization runs only models,
# seeds and data tests (docs/data_quality.md); `make test` runs the unit tests (tests/test_*_unit.py).
BUILD = ["build", "--exclude-resource-type", "unit_test"]


def _newest_source_mtime(project_dir: Path) -> float:
    paths = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for sub in ("models", "seeds", "macros", "tests"):
        paths.extend(p for p in (project_dir / sub).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_manifest() -> Path:
    """Re-parse the dbt project when any of its files is newer than target/manifest.json.

    A file lock serializes parsers: test workers and `dagster dev` may load the definitions at once.
    """
    manifest = dbt_project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(dbt_project.project_dir):
            return manifest
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(dbt_project.project_dir),
             "--profiles-dir", str(dbt_project.project_dir), "--target-path", str(manifest.parent)],
            check=True, env=env,
        )
    return manifest


MANIFEST = ensure_manifest()


class ModelNameTranslator(DagsterDbtTranslator):
    """Key models and seeds by name alone (not schema/name), so checks and Python assets can say
    `AssetKey("measure_cases")`; sources keep [source, table], e.g. ["raw", "medical_claim"]."""

    def get_asset_key(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        meta_key = dbt_resource_props.get("config", {}).get("meta", {}).get("dagster", {}).get("asset_key")
        return dg.AssetKey(meta_key) if meta_key else dg.AssetKey(dbt_resource_props["name"])


TRANSLATOR = ModelNameTranslator()


def _dbt_vars(warehouse: WarehouseResource) -> str:
    """The run's vars: the as-of date, and the measure 220 TINs and risk-model pin when the settings name them."""
    settings = warehouse.settings
    with warehouse.connect(read_only=True) as con:
        as_of = resolve_as_of_date(con, settings)
    return json.dumps({"as_of_date": as_of, **settings.dbt_vars()})


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """`dbt build` of the step's selection: a dbt subprocess, or on Spark (unless dbt goes through a Thrift server)
    dbt inside this process on its SparkSession (orchestration/dbt_in_process.py)."""
    settings = warehouse.settings
    with warehouse.locked():
        if settings.is_spark and not settings.spark_thrift:
            yield from dagster_events(context, settings, BUILD, settings.data_dir / "dbt_target", _dbt_vars(warehouse))
        else:
            yield from dbt.cli([*BUILD, "--vars", _dbt_vars(warehouse)], context=context).stream()


@dbt_assets(manifest=MANIFEST, project=dbt_project, exclude=SCORED_SELECTION,
             dagster_dbt_translator=TRANSLATOR, name="dbt_core_models", pool=WAREHOUSE_POOL)
def dbt_core_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)


@dbt_assets(manifest=MANIFEST, project=dbt_project, select=SCORED_SELECTION,
             dagster_dbt_translator=TRANSLATOR, name="dbt_scored_models", pool=WAREHOUSE_POOL)
def dbt_scored_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)


ASSETS = [dbt_core_models, dbt_scored_models]
