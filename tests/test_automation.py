"""Freshness instead of a clock (orchestration/automation.py, orchestration/schedules.py): the refresh job is
launched after a raw table is loaded, not while an ingestion waits, and not again until the next load; the daily
schedule only refreshes what the automation missed; the raw assets carry dbt's source freshness windows."""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.jobs import refresh_job
from orchestration.schedules import PUBLISHED, daily_refresh_schedule

RAW_CLAIMS = dg.AssetKey(["raw", "medical_claim"])


RISK_MODEL = dg.AssetKey(["risk_model", "coefficients"])


def _requested(result, job: str) -> bool:
    return any(str(s.key) == str(dg.AssetJobKey(job)) and s.size for s in result._requested_subsets)


def _refresh_requested(result) -> bool:
    return _requested(result, "refresh_job")


def _load(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition))


@pytest.fixture
def fresh_instance():
    """A deployment's instance before its first refresh: no risk-model version fitted yet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("delivery", ["2025-01", "2025-02"])
            yield instance


@pytest.fixture
def instance(fresh_instance):
    """An instance where a risk-model version was fitted (the first refit ran)."""
    _load(fresh_instance, RISK_MODEL)
    return fresh_instance


def _evaluate(instance, cursor=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)


def _roots() -> list[dg.AssetKey]:
    job_keys = set(defs.resolve_job_def(refresh_job.name).asset_layer.selected_asset_keys)
    graph = defs.resolve_asset_graph()
    return [key for key in job_keys if not (graph.get(key).parent_entity_keys & job_keys)]


def test_the_refresh_follows_a_load_once(instance):
    result = _evaluate(instance)
    assert not _refresh_requested(result), "nothing was loaded: no refresh"

    _load(instance, RAW_CLAIMS, "2025-02")
    result = _evaluate(instance, result.cursor)
    assert _refresh_requested(result)

    # the refresh ran (its root assets materialized): no second refresh for the same load
    for key in _roots():
        _load(instance, key)
    result = _evaluate(instance, result.cursor)
    assert not _refresh_requested(result)

    _load(instance, dg.AssetKey(["raw", "observation"]), "2025-02")
    result = _evaluate(instance, result.cursor)
    assert _refresh_requested(result), "a load of another raw table launches it again"


def test_the_refresh_waits_for_an_ingestion_in_progress(instance):
    result = _evaluate(instance)
    _load(instance, RAW_CLAIMS, "2025-01")
    # the next delivery's ingestion is queued: the refresh waits for it
    ingest = defs.resolve_job_def("ingest_job")
    run = instance.create_run_for_job(ingest, asset_selection=frozenset({dg.AssetKey(["raw", "eligibility"])}),
                                      tags={"dagster/partition": "2025-02"}, status=dg.DagsterRunStatus.STARTED)
    result = _evaluate(instance, result.cursor)
    assert not _refresh_requested(result)
    instance.report_run_canceled(run)
    result = _evaluate(instance, result.cursor)
    assert _refresh_requested(result)


def test_the_first_refresh_of_a_deployment_fits_the_risk_model(fresh_instance):
    """Session 10: on a new deployment the automation launched refresh_job, which failed (no risk-model version:
    `risk_model.coefficients` does not exist). Until a version is fitted, the automation launches refit_job
    instead (what `spine-pipeline run` does when no version exists), and refresh_job afterwards."""
    result = _evaluate(fresh_instance)
    _load(fresh_instance, RAW_CLAIMS, "2025-01")
    result = _evaluate(fresh_instance, result.cursor)
    assert _requested(result, "refit_job") and not _refresh_requested(result)

    # the refit ran: the risk model and every root of the refresh materialized; nothing more to do
    for key in [RISK_MODEL, *_roots()]:
        _load(fresh_instance, key)
    result = _evaluate(fresh_instance, result.cursor)
    assert not _requested(result, "refit_job") and not _refresh_requested(result)

    _load(fresh_instance, RAW_CLAIMS, "2025-02")
    result = _evaluate(fresh_instance, result.cursor)
    assert _refresh_requested(result) and not _requested(result, "refit_job"), "later loads refresh, never refit"


def test_the_daily_schedule_skips_until_a_risk_model_is_fitted(fresh_instance):
    context = dg.build_schedule_context(instance=fresh_instance)
    _load(fresh_instance, RAW_CLAIMS, "2025-01")
    skipped = daily_refresh_schedule(context)
    assert isinstance(skipped, dg.SkipReason) and "refit_job" in skipped.skip_message


def test_the_daily_schedule_only_refreshes_what_the_automation_missed(instance):
    context = dg.build_schedule_context(instance=instance)
    assert isinstance(daily_refresh_schedule(context), dg.SkipReason), "nothing loaded"
    _load(instance, RAW_CLAIMS, "2025-01")
    assert isinstance(daily_refresh_schedule(context), dg.RunRequest), "loaded, never published"
    _load(instance, PUBLISHED)
    assert isinstance(daily_refresh_schedule(context), dg.SkipReason), "published after the load"
    _load(instance, RAW_CLAIMS, "2025-02")
    assert isinstance(daily_refresh_schedule(context), dg.RunRequest), "a load after the publication"


def test_raw_tables_carry_the_dbt_source_freshness():
    graph = defs.resolve_asset_graph()
    claims = graph.get(RAW_CLAIMS).freshness_policy
    assert claims.fail_window.to_timedelta() == timedelta(days=62)
    assert claims.warn_window.to_timedelta() == timedelta(days=35)
    assert graph.get(dg.AssetKey(["raw", "provider"])).freshness_policy is None, "the provider file is optional"
