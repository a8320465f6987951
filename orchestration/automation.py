"""Freshness instead of a clock: the refresh follows ingestion, and the raw tables say when a delivery is late.

- `refresh_after_ingestion`, the automation condition of `refresh_job` (Dagster declarative automation,
  job-scoped): the whole refresh (dbt models and tests, the data-quality checks, the publication) is launched once
  a raw table has been loaded since the refresh last ran, and no ingestion is running or queued, so a month's
  four files give one refresh, after the last of them. One whole job rather than each asset on its own
  condition: every model reads the run's as-of date, and the blocking checks gate the publication only within
  a run. Dagster's `default_automation_condition_sensor` evaluates it: turn it on in the UI (Automation), as
  the landing sensor (docs/operations.md). The run waits in the run queue behind any other writer (one
  warehouse writer at a time).
- `first_refit_after_ingestion`, the same condition on `refit_job` while no risk-model version was ever fitted
  (the instance has no materialization of `risk_model/coefficients`): the first refresh of a new deployment.
- The daily schedule (orchestration/schedules.py) is the fallback: it refreshes only when the published tables
  are older than the latest load.
- `raw_freshness_policy`: the raw tables' freshness windows, the ones dbt's source freshness
  (dbt_project/models/staging/_sources.yml, on the rows' load times) declares, as a Dagster freshness policy.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import reduce

import dagster as dg

_PERIODS = {"minute": "minutes", "hour": "hours", "day": "days"}


def _after_ingestion(raw_keys: list[dg.AssetKey], risk_model_key: dg.AssetKey, fitted: bool) -> dg.AutomationCondition:
    def any_raw(condition: dg.AutomationCondition) -> dg.AutomationCondition:
        return reduce(lambda a, b: a | b, (dg.AutomationCondition.asset_matches(k, condition) for k in raw_keys))

    never_fitted = dg.AutomationCondition.asset_matches(risk_model_key, dg.AutomationCondition.missing())
    model = (~never_fitted).with_label("a risk-model version was fitted") if fitted else \
        never_fitted.with_label("no risk-model version was fitted yet")
    return dg.AutomationCondition.any_job_root_assets_match(
        any_raw(dg.AutomationCondition.newly_updated()).since_last_handled().with_label("a raw table was loaded")
        & ~any_raw(dg.AutomationCondition.in_progress()).with_label("an ingestion is running or queued")
        & ~dg.AutomationCondition.in_progress().with_label("the refresh is running")
        & model
    )


def refresh_after_ingestion(raw_keys: list[dg.AssetKey], risk_model_key: dg.AssetKey) -> dg.AutomationCondition:
    """True for the refresh job once one of `raw_keys` was loaded since the job last ran, none is being loaded
    or waits to be, the refresh itself is not running, and a risk-model version exists. Evaluated on the job's
    root assets (those with no parent in the job): the raw tables are outside the job, so each root is asked
    about all of them."""
    return _after_ingestion(raw_keys, risk_model_key, fitted=True)


def first_refit_after_ingestion(raw_keys: list[dg.AssetKey], risk_model_key: dg.AssetKey) -> dg.AutomationCondition:
    """The same condition for the refit job while no risk-model version was ever fitted (a new deployment): the
    refresh applies the latest version and fails without one, so the first refresh is a refit, as in
    `spine-pipeline run`. The refit materializes the refresh's roots too, so no refresh follows it for the same
    loads. Later loads meet `refresh_after_ingestion` and are never refitted (refits stay deliberate)."""
    return _after_ingestion(raw_keys, risk_model_key, fitted=False)


def _window(threshold: dict | None) -> timedelta | None:
    if not threshold or not threshold.get("count"):
        return None
    return timedelta(**{_PERIODS[threshold["period"]]: threshold["count"]})


def raw_freshness_policy(manifest_path, table: str) -> dg.FreshnessPolicy | None:
    """The dbt source freshness of raw.<table> (warn_after / error_after) as a time-window freshness policy."""
    manifest = json.loads(manifest_path.read_text())
    source = manifest["sources"].get(f"source.spine_outcomes.raw.{table}")
    freshness = (source or {}).get("freshness") or {}
    fail, warn = _window(freshness.get("error_after")), _window(freshness.get("warn_after"))
    if fail is None:
        return None
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)
