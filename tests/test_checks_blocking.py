"""Blocking GX checks: injected defects fail the check, publishing is skipped, the old publication stays."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest

from checks_standin import definitions, good_tables, write_tables

pytestmark = pytest.mark.xdist_group("gx_blocking")


def _run(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=instance, raise_on_error=False)


def _check_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _inject(tables: dict, defect: str) -> dict:
    if defect == "post_op_out_of_window":
        tables["score_pairs"].loc[0, "post_score_date"] = date(2025, 7, 29)  # window_end + 1 day
    elif defect == "score_of_11":
        tables["score_pairs"].loc[0, ["post_score", "improvement"]] = [Decimal("11"), Decimal("-2.8")]
    elif defect == "duplicate_case":
        cases = tables["measure_cases"]
        tables["measure_cases"] = pd.concat([cases, cases.iloc[[0]].assign(case_id="c1-again")], ignore_index=True)
    return tables


@pytest.mark.parametrize(
    ("defect", "check"),
    [
        ("post_op_out_of_window", "gx_score_pairs"),
        ("score_of_11", "gx_score_pairs"),
        ("duplicate_case", "gx_measure_cases"),
    ],
)
def test_defect_blocks_publishing_and_keeps_previous_publication(tmp_path, monkeypatch, defect, check):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    defs = definitions(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    warehouse = tmp_path / "warehouse.duckdb"

    write_tables(warehouse, good_tables())
    first = _run(defs, instance)
    assert all(e.passed for e in _check_results(first).values())
    published = tmp_path / "published.duckdb"
    before = published.read_bytes()
    assert len(first.get_asset_materialization_events()) == 4

    write_tables(warehouse, _inject(good_tables(), defect))
    second = _run(defs, instance)

    evaluations = _check_results(second)
    assert not evaluations[check].passed
    assert evaluations[check].severity == dg.AssetCheckSeverity.ERROR
    materialized = {e.asset_key for e in second.get_asset_materialization_events()}
    assert dg.AssetKey("published_tables") not in materialized
    assert dg.AssetKey("score_pairs") in materialized
    assert published.read_bytes() == before

    text = str(evaluations[check].metadata)
    assert "P-SECRET" not in text, "a person identifier leaked into check metadata"
