"""dbt models as Dagster assets: one multi-asset, one `dbt build` per run.

The refresh (daily, or after ingestion) applies the current risk-model version: one dbt invocation builds every
model. A refit (`refit_job`) fits `risk_model_coefficients` (orchestration/assets/risk_model.py) on the episode
features and then scores with it: Dagster splits this multi-asset into the models upstream of the fit and those
downstream of the `risk_model` source, two invocations, because the fit sits between them. dbt tests become
asset checks (dagster-dbt does this). The code labels the reporting models read (orchestration/assets/code_labels.py)
are written by this step, before dbt starts: as an asset step of their own upstream of some models, they split a
refit's build in three (Dagster colours a multi-asset by the steps upstream of each of its assets).

Fixed costs (docs/performance.md, "Fixed costs"): the run's values (as-of date, TINs in scope, pinned model
version) reach dbt in the environment variable DBT_RUN_CONTEXT (dbt_project/macros/run_var.sql), never as
`--vars`, which would make dbt re-parse the whole project; dbt keeps its target folder (with the partial-parse
file) under DATA_DIR from run to run instead of a new folder per invocation, so a run re-parses only what changed;
and dbt runs inside this process (orchestration/dbt_in_process.py), on DuckDB as on Spark, parsing the project
once per process: a refit's two builds share one parsed manifest and no dbt process is started.
"""

# No `from __future__ import annotations`: @dbt_assets checks the `context` annotation as a real type and
# rejects the string "dg.AssetExecutionContext" that postponed annotations would give it.
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import default_metadata_from_dbt_resource_props

from orchestration.assets import code_labels
from orchestration.dbt_in_process import dagster_events, newest_source_mtime
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource, dbt_project, resolve_as_of_date

# Unit tests test the code, with fixtures whose dates and vars are their own: a materialization runs only models,
# seeds and data tests (docs/data_quality.md); `make test` runs the unit tests (tests/test_*_unit.py).
BUILD = ["build", "--exclude-resource-type", "unit_test"]


def ensure_manifest() -> Path:
    """Re-parse the dbt project when any of its files is newer than target/manifest.json.

    A file lock serializes parsers: test workers and `dagster dev` may load the definitions at once.
    """
    manifest = dbt_project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= newest_source_mtime(Path(dbt_project.project_dir)):
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


# dbt source tests (the code labels' keys) are checks on the label assets like any model's tests: otherwise dagster-dbt
# logs each as an observation with a multi-line warning whenever a build runs them
TRANSLATOR = ModelNameTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))


RUN_CONTEXT_ENV = "DBT_RUN_CONTEXT"
INDIRECT_SELECTION_ENV = "DBT_INDIRECT_SELECTION"  # read by dagster-dbt when it subsets the build


def run_context(warehouse: WarehouseResource) -> dict:
    """The run's values for dbt: the as-of date, and the measure 220 TINs and risk-model pin when the settings
    name them."""
    settings = warehouse.settings
    with warehouse.connect(read_only=True) as con:
        as_of = resolve_as_of_date(con, settings)
    return {"as_of_date": as_of, **settings.dbt_vars()}


def dbt_target_path(warehouse: WarehouseResource) -> Path:
    """dbt's artifacts and partial-parse file, kept per DATA_DIR: the parse depends on the warehouse path."""
    return warehouse.settings.data_dir / "dbt_target"


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """dbt reads os.environ when an invocation starts (in this process, or DbtCliResource's subprocess): set `name`
    for the step's invocation."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def with_table_metadata(events, warehouse: WarehouseResource):
    """The dbt step's events with each table's row count and every model's and seed's column schema (the metadata
    dagster-dbt's fetch_row_counts / fetch_column_metadata attach; docs/performance.md: their cost). dagster-dbt
    fetched them model by model through a dbt adapter it built for the purpose; here one read-only connection reads
    them all in two queries once dbt has finished (DuckDB: one writer per file, so events wait for dbt's end, as
    they did for the subprocess). A view's row count is not fetched (it would run the view). Events dbt gave before
    a failure are yielded too."""
    collected, failure = [], None
    try:
        collected.extend(events)
    except Exception as exc:  # noqa: BLE001 - re-raised below, after the events of what did build
        failure = exc
    built = {_unique_id(e) for e in collected} - {None}
    metadata = _table_metadata(warehouse, built)
    for event in collected:
        extra = metadata.get(_unique_id(event))
        yield event.with_metadata({**event.metadata, **extra}) if extra else event
    if failure is not None:
        raise failure


def _unique_id(event) -> str | None:
    if not isinstance(event, TABLE_EVENTS) or "unique_id" not in event.metadata:
        return None
    return event.metadata["unique_id"].text


TABLE_EVENTS = (dg.Output, dg.AssetMaterialization)


def _relations() -> dict[str, tuple[str, str, bool]]:
    """unique_id -> (schema, relation, is a view) of every model, seed and snapshot in the manifest."""
    manifest = json.loads(MANIFEST.read_text())
    return {
        unique_id: (node["schema"], node["alias"], node["config"]["materialized"] == "view")
        for unique_id, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed", "snapshot")
    }


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_metadata(warehouse: WarehouseResource, unique_ids: set[str]) -> dict[str, dict]:
    relations = {unique_id: where for unique_id, where in _relations().items() if unique_id in unique_ids}
    if not relations:
        return {}
    with warehouse.connect(read_only=True) as con:
        columns: dict[tuple[str, str], dict] = {}
        for schema, table, column, data_type in con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns() "
            "where database_name = current_database() order by schema_name, table_name, column_index"
        ).fetchall():
            columns.setdefault((schema, table), {})[column] = {"data_type": data_type}
        tables = [(key, schema, name) for key, (schema, name, is_view) in relations.items() if not is_view]
        counts = {}
        if tables:
            rows = con.execute(" union all ".join(
                f"select {i} as i, count(*) as n from {_quoted(schema)}.{_quoted(name)}"
                for i, (_, schema, name) in enumerate(tables))).fetchall()
            counts = {tables[i][0]: n for i, n in rows}
    metadata = {}
    for key, (schema, name, _) in relations.items():
        found = columns.get((schema, name))
        entry = dict(default_metadata_from_dbt_resource_props({"columns": found})) if found else {}
        if key in counts:
            entry.update({"dagster/row_count": counts[key], "dagster/storage_kind": "duckdb"})
        metadata[key] = entry
    return metadata


@dbt_assets(manifest=MANIFEST, project=dbt_project, dagster_dbt_translator=TRANSLATOR, name="dbt_models",
             pool=WAREHOUSE_POOL)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    with warehouse.locked():
        if context.selected_asset_keys & LABEL_READERS:
            yield from code_labels.write_labels(warehouse)
        values = run_context(warehouse)
        context.log.info(f"dbt run context: {json.dumps(values, sort_keys=True)}")
        settings = warehouse.settings
        # A refit splits the build around the fit: a test runs in the part that builds the last of its models
        # (`buildable`), not in the first part, where a test of measure_cases against the registry (eager) would
        # read a table not built yet. A whole build selects every model, so every test runs.
        with _environment(RUN_CONTEXT_ENV, json.dumps(values)), _environment(INDIRECT_SELECTION_ENV, "buildable"):
            if settings.dbt_target == "spark_thrift":  # a Thrift server: the dbt CLI and dagster-dbt's metadata fetch
                invocation = dbt.cli(BUILD, context=context, target_path=dbt_target_path(warehouse))
                yield from invocation.stream().fetch_row_counts().fetch_column_metadata(with_column_lineage=False)
            elif settings.is_spark:  # dbt inside this process on its SparkSession (no row counts)
                yield from dagster_events(context, settings, BUILD, dbt_target_path(warehouse))
            else:  # dbt inside this process on the warehouse file, on the process's parsed manifest
                # dbt's own console lines (one per model and test, ~300 a build) at LOG_LEVEL INFO or DEBUG only: at
                # the default the console keeps to the stages; failures reach it as failed checks and dbt's errors
                echo = settings.log_level in ("DEBUG", "INFO")
                yield from with_table_metadata(
                    dagster_events(context, settings, BUILD, dbt_target_path(warehouse), echo=echo), warehouse)


# The models that read the code labels (dbt source `labels`): the step that builds any of them writes the labels first.
LABEL_READERS = frozenset(key for key, deps in dbt_models.asset_deps.items() if deps & code_labels.KEYS)
ASSETS = [dbt_models]
