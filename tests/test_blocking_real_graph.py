"""Blocking GX checks on the real graph: a logic regression in a guarded dbt output stops publishing.

The checks guard dbt outputs, so the regression is simulated where a faulty model would leave it: the guarded
table of a copy of a successful run's DATA_DIR is edited, then the real checks and the real publication
multi-asset (`published_tables`: one asset per published table) run again (a job selecting the guarded tables' GX checks and the publication, as the refresh does after
dbt). The failed check must be an ERROR, `published_tables` must not materialize, and every published byte must
stay as it was.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from e2e_support import definitions_for, published_fingerprint
from orchestration.settings import load_settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

GUARDED = ("score_pairs", "measure_cases", "rehab_episodes")
PUBLISHED = dg.AssetKey(["published", "measure_performance"])

checks_then_publish = dg.define_asset_job(
    "checks_then_publish",
    selection=dg.AssetSelection.checks(*(dg.AssetCheckKey(dg.AssetKey(t), f"gx_{t}") for t in GUARDED))
    | dg.AssetSelection.groups("publication"),
)

# One row each, picked deterministically among the rows the defect applies to.
DEFECTS = {
    "post_op_out_of_window": """
        update marts.score_pairs set post_score_date = window_end + interval 1 day
        where case_id = (select min(case_id) from marts.score_pairs where post_score_date is not null)""",
    "score_of_11": """
        update marts.score_pairs set post_score = 11, improvement = pre_score - 11
        where case_id = (select min(case_id) from marts.score_pairs
                         where instrument = 'back_pain' and post_score is not null)
          and instrument = 'back_pain'""",
    "duplicate_case": """
        insert into marts.measure_cases
        select * replace (md5(case_id || '-again') as case_id) from marts.measure_cases
        where case_id = (select min(case_id) from marts.measure_cases)""",
}


def _rerun_checks_and_publish(tmp_path, pipeline_run, defect: str | None) -> tuple[dg.ExecuteInProcessResult, dict, dict]:
    assert pipeline_run.exit_code == 0, "the first run must succeed for its publication to be kept"
    data_dir = tmp_path / "data"
    shutil.copytree(pipeline_run.settings.data_dir, data_dir, symlinks=True, ignore=shutil.ignore_patterns("dagster_home"))
    settings = load_settings({"DATA_DIR": str(data_dir)})
    if defect:
        with duckdb.connect(str(settings.warehouse_path)) as con:
            changed = con.execute(DEFECTS[defect]).fetchone()[0]
        assert changed == 1, f"{defect}: the injection changed {changed} rows"
    before = published_fingerprint(settings)
    defs = definitions_for(settings, jobs=[checks_then_publish])
    result = defs.resolve_job_def("checks_then_publish").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return result, before, published_fingerprint(settings)


@pytest.mark.parametrize(
    ("defect", "check"),
    [
        ("post_op_out_of_window", "gx_score_pairs"),
        ("score_of_11", "gx_score_pairs"),
        ("duplicate_case", "gx_measure_cases"),
    ],
)
def test_regression_blocks_publishing_and_keeps_the_publication(tmp_path, pipeline_run, defect, check):
    result, before, after = _rerun_checks_and_publish(tmp_path, pipeline_run, defect)

    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert set(failed) == {check}
    assert failed[check].severity == dg.AssetCheckSeverity.ERROR
    assert PUBLISHED not in {e.asset_key for e in result.get_asset_materialization_events()}, (
        f"{check} failed but published_tables still materialized")
    assert "published_tables" not in {e.step_key for e in result.get_step_success_events()}
    assert after == before, "the live publication changed"


def test_without_regression_the_same_job_publishes(tmp_path, pipeline_run):
    """The control: the same job on the unedited copy passes its checks and publishes a new version."""
    result, before, after = _rerun_checks_and_publish(tmp_path, pipeline_run, None)

    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert PUBLISHED in {e.asset_key for e in result.get_asset_materialization_events()}
    assert after["current ->"] != before["current ->"]
