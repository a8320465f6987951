"""Fixed costs of a run (docs/performance.md, "Fixed costs"): how many dbt invocations and Dagster steps the jobs
plan, and the SQLite settings of the Dagster instance's event log. A change that adds a dbt invocation to a refit
(e.g. a Python asset upstream of some dbt models again) fails here, not only in a benchmark."""

import sqlite3

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan

from orchestration import dagster_sqlite
from orchestration.assets import code_labels
from orchestration.assets.dbt_models import LABEL_READERS, dbt_models

# The most each job may plan. A refit splits the dbt build around the Python fit (two dbt invocations); a refresh
# is one. Steps: dbt, the fit, publication and the checks that are steps of their own.
DBT_INVOCATIONS = {"refresh_job": 1, "refit_job": 2}
STEPS = {"ingest_job": 24, "refresh_job": 12, "refit_job": 14}


def _plan_steps(job_name: str) -> list[str]:
    from orchestration.definitions import defs

    plan = create_execution_plan(defs.resolve_job_def(job_name))
    return [step.key for step in plan.get_steps_to_execute_in_topo_order()]


@pytest.mark.parametrize("job_name", sorted(DBT_INVOCATIONS))
def test_dbt_runs_at_most_n_times_per_job(job_name):
    dbt_steps = [k for k in _plan_steps(job_name) if k.split("[")[0].startswith(dbt_models.op.name)]
    assert 1 <= len(dbt_steps) <= DBT_INVOCATIONS[job_name], dbt_steps


@pytest.mark.parametrize("job_name", sorted(STEPS))
def test_steps_per_job_do_not_grow(job_name):
    steps = _plan_steps(job_name)
    assert len(steps) <= STEPS[job_name], steps


def test_refit_builds_the_label_readers_before_the_fit_in_the_step_that_writes_the_labels():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("refit_job")
    fit = dg.AssetKey(["risk_model", "coefficients"])
    by_step: dict[str, set] = {}
    for key in job.asset_layer.executable_asset_keys:
        by_step.setdefault(job.asset_layer.get_op_output_handle(key).node_handle.name, set()).add(key)
    readers_step = next(step for step, keys in by_step.items() if keys & LABEL_READERS)
    assert LABEL_READERS <= by_step[readers_step]
    assert fit not in by_step[readers_step]
    # the labels are not an asset step of their own any more: external in the graph, written by the dbt step
    assert not any(keys & code_labels.KEYS for keys in by_step.values())


def test_event_log_connections_use_normal_sync_and_keep_the_file_open(tmp_path):
    dagster_sqlite.install()
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    path = tmp_path / "events.db"
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.connect() as con:
        con.execute(text("pragma journal_mode = wal"))
        assert con.execute(text("pragma synchronous")).scalar() == 1  # NORMAL
        con.execute(text("create table t (x integer)"))
        con.commit()
    engine.dispose()
    with engine.connect() as con:
        con.execute(text("insert into t values (1)"))
        con.commit()
    engine.dispose()
    # the per-event connection closed without checkpointing: the WAL is still there, and the row readable
    assert (tmp_path / "events.db-wal").exists()
    assert sqlite3.connect(path).execute("select count(*) from t").fetchone()[0] == 1
    assert str(path) in dagster_sqlite._keepers


def test_a_real_refit_runs_dbt_twice_and_records_row_counts_schemas_and_labels(pipeline_run):
    """The end-to-end run (a first run: a refit): two dbt steps; every table model's materialization carries its
    row count and column schema (read after dbt exits in two queries, not model by model through a dbt adapter);
    the code labels are materialized by the dbt step."""
    import duckdb
    from dagster._core.instance.ref import InstanceRef

    settings = pipeline_run.settings
    assert pipeline_run.exit_code == 0
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.data_dir / "dagster_home")))
    refit = next(r for r in instance.get_runs() if r.job_name == "refit_job")
    started = [e.step_key for e in instance.all_logs(refit.run_id, of_type=dg.DagsterEventType.STEP_START)]
    assert len([s for s in started if s.startswith("dbt_models")]) == 2, started
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cases = con.execute("select count(*) from marts.measure_cases").fetchone()[0]
        labels = con.execute("select count(*) from labels.icd10_cm").fetchone()[0]
    metadata = instance.get_latest_materialization_event(dg.AssetKey("measure_cases")).asset_materialization.metadata
    assert metadata["dagster/row_count"].value == cases > 0
    assert {"case_id", "status", "measure_id"} <= {c.name for c in metadata["dagster/column_schema"].value.columns}
    view = instance.get_latest_materialization_event(dg.AssetKey("stg_medical_claim")).asset_materialization
    assert "dagster/row_count" not in view.metadata and "dagster/column_schema" in view.metadata  # a view: not run
    label = instance.get_latest_materialization_event(dg.AssetKey(["labels", "icd10_cm"])).asset_materialization
    assert label.metadata["dagster/row_count"].value == labels > 0
