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


# The project's layers (the first folder under models/), who answers for each, and the seeds' group.
LAYER_OWNERS = {
    "staging": ["team:data-engineering"],
    "intermediate": ["team:measures"],
    "marts": ["team:measures"],
    "registry": ["team:measures"],
    "reporting": ["team:reporting"],
}
SEED_GROUP = "seeds"
SEED_OWNERS = ["team:measures"]


def _layer(dbt_resource_props) -> str:
    """models/<layer>/...: the folder right under models/ (fqn = [project, layer, ..., name])."""
    return dbt_resource_props["fqn"][1]


class ModelNameTranslator(DagsterDbtTranslator):
    """Key models and seeds by name alone (not schema/name), so checks and Python assets can say
    `AssetKey("measure_cases")`; sources keep [source, table], e.g. ["raw", "medical_claim"]. Models are grouped
    by layer (their folder: staging, intermediate, marts, registry, reporting), seeds in one group; owners per
    layer; kinds add the materialization (table, view, seed) to dbt and duckdb."""

    def get_asset_key(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        meta_key = dbt_resource_props.get("config", {}).get("meta", {}).get("dagster", {}).get("asset_key")
        return dg.AssetKey(meta_key) if meta_key else dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "seed":
            return SEED_GROUP
        if dbt_resource_props["resource_type"] == "model":
            return _layer(dbt_resource_props)
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "seed":
            return SEED_OWNERS
        if dbt_resource_props["resource_type"] == "model":
            return LAYER_OWNERS.get(_layer(dbt_resource_props))
        return super().get_owners(dbt_resource_props)

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.merge_attributes(kinds={"seed"})
        if props["resource_type"] == "model":
            return spec.merge_attributes(kinds={props["config"]["materialized"]})
        return spec


TRANSLATOR = ModelNameTranslator()


def _dbt_vars(warehouse: WarehouseResource) -> str:
    """The run's vars: the as-of date, and the measure 220 TINs and risk-model pin when the settings name them."""
    settings = warehouse.settings
    with warehouse.connect(read_only=True) as con:
        as_of = resolve_as_of_date(con, settings)
    return json.dumps({"as_of_date": as_of, **settings.dbt_vars()})


def with_table_metadata(invocation):
    """The invocation's events with each table's row count and every model's column schema (docs/performance.md:
    their cost). On DuckDB dagster-dbt waits for dbt to exit (one writer per file), then reads the warehouse
    read-only in this process, which holds the DATA_DIR lock; a view's row count is not fetched (it would run
    the view). The adapter's read-only handle is closed afterwards: DuckDB refuses a second connection of another
    configuration to the same file in one process (the next step opens it read-write)."""
    try:
        yield from invocation.stream().fetch_row_counts().fetch_column_metadata(with_column_lineage=False)
    finally:
        _close_adapter(invocation.adapter)


def _close_adapter(adapter) -> None:
    if adapter is None:
        return
    adapter.connections.cleanup_all()
    environment = getattr(type(adapter.connections), "_ENV", None)  # dbt-duckdb keeps one database per process
    if environment is not None:
        environment.close()
        type(adapter.connections)._ENV = None


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """`dbt build` of the step's selection: a dbt subprocess, or on Spark (unless dbt goes through a Thrift server)
    dbt inside this process on its SparkSession (orchestration/dbt_in_process.py; no row-count metadata there)."""
    settings = warehouse.settings
    with warehouse.locked():
        if settings.is_spark and not settings.spark_thrift:
            yield from dagster_events(context, settings, BUILD, settings.data_dir / "dbt_target", _dbt_vars(warehouse))
        else:
            yield from with_table_metadata(dbt.cli([*BUILD, "--vars", _dbt_vars(warehouse)], context=context))


@dbt_assets(manifest=MANIFEST, project=dbt_project, exclude=SCORED_SELECTION,
             dagster_dbt_translator=TRANSLATOR, name="dbt_core_models", pool=WAREHOUSE_POOL)
def dbt_core_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)


@dbt_assets(manifest=MANIFEST, project=dbt_project, select=SCORED_SELECTION,
             dagster_dbt_translator=TRANSLATOR, name="dbt_scored_models", pool=WAREHOUSE_POOL)
def dbt_scored_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)


ASSETS = [dbt_core_models, dbt_scored_models]
