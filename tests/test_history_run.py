"""Ten years of history (claims 2016-2025) through the real pipeline: the run succeeds and publishes, and every QPP
file matches CMS's measure data for its year (read here from the JSON kept in the project, not from the seeds the
pipeline reads): the measure exists that year, its metric type is one the pipeline computes, its strata are
exactly CMS's names (PY2024: discectomyLaminectmy + lumbarFusion). No file for a year before a measure's first,
no measurement for a nonProportion year; those cases are not_eligible with the reason, never counted.

Size: 3,000 persons over ten years (about 80 s here): enough for every measure-year of the window to have cases.
At that size a monthly observation delivery holds a dozen rows, which vary from month to month more than the
required-data check's drop share: with the defaults a drop warns and the run publishes (docs/operations.md)."""

from __future__ import annotations

import json

import duckdb
import pytest

from e2e_support import PipelineRun, run_real_pipeline
from orchestration.settings import SEEDS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("history")]

PERSONS = 3_000
WINDOW = ("2016-01-01", "2025-12-31")
CMS = json.loads((SEEDS_DIR / "qpp" / "measures.json").read_text())
COMPUTED = {"singlePerformanceRate", "multiPerformanceRate"}


@pytest.fixture(scope="module")
def history_run(tmp_path_factory) -> PipelineRun:
    return run_real_pipeline(tmp_path_factory.mktemp("history"), persons=PERSONS, window=WINDOW, defect_rate=0.0)


def _files(run: PipelineRun) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((run.settings.data_dir / "qpp_submissions").glob("*.json"))}


def _cms(measure_id: str, year: int) -> dict | None:
    return next((m for m in CMS.get(str(year), []) if m["measureId"] == measure_id), None)


def test_history_run_exits_0_and_publishes(history_run):
    assert history_run.exit_code == 0
    assert history_run.settings.published_db_path.exists()
    with duckdb.connect(str(history_run.settings.published_db_path), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert {"measure_performance", "measure_benchmark_position", "code_overview"} <= tables
    assert _files(history_run)


def test_every_qpp_file_matches_cms_data_for_its_year(history_run):
    seen = set()
    for name, submission in _files(history_run).items():
        year = submission["performanceYear"]
        for measurement in submission["measurementSets"][0]["measurements"]:
            cms = _cms(measurement["measureId"], year)
            assert cms is not None, f"{name}: CMS has no measure {measurement['measureId']} in PY{year}"
            assert year >= cms["firstPerformanceYear"], name
            assert cms["metricType"] in COMPUTED, f"{name}: {cms['metricType']} submitted"
            assert submission["measurementSets"][0]["submissionMethod"] in cms["submissionMethods"]
            strata = [s["stratum"] for s in measurement["value"].get("strata", [])]
            expected = [s["name"] for s in cms["strata"]] if cms["metricType"] == "multiPerformanceRate" else []
            assert strata == expected, f"{name} measure {measurement['measureId']}: {strata} != {expected}"
            seen.add((year, measurement["measureId"], tuple(strata)))
    # the years the issue names, each with its own shape
    assert (2024, "459", ("discectomyLaminectmy", "lumbarFusion")) in seen
    assert (2025, "459", ("lumbarDiscectomy", "lumbarFusion")) in seen
    assert (2022, "459", ()) in seen and (2017, "220", ()) in seen


def test_no_file_before_a_measures_first_year_nor_for_a_year_it_is_not_computed(history_run):
    years = {s["performanceYear"] for s in _files(history_run).values()}
    assert min(years) == 2017 and 2016 not in years
    measured = {(s["performanceYear"], m["measureId"]) for s in _files(history_run).values()
                for m in s["measurementSets"][0]["measurements"]}
    for measure_id in ("459", "461", "471"):
        assert not {(y, measure_id) for y in (2016, 2017, 2018, 2019)} & measured
    with duckdb.connect(str(history_run.settings.warehouse_path), read_only=True) as con:
        reasons = dict(con.execute(
            "select measure_id || ' ' || performance_year, any_value(reason) from marts.measure_cases "
            "where status = 'not_eligible' and stratum in ('lumbarDiscectomy', 'overall') group by all").fetchall())
        duplicates = con.execute("select count(*) - count(distinct case_id) from marts.measure_cases").fetchone()[0]
        counted = con.execute(
            "select count(*) from marts.measure_cases where status = 'not_eligible' and qdc_code is not null"
        ).fetchone()[0]
    assert duplicates == 0 and counted == 0
    assert "not defined by CMS for PY2016" in reasons["220 2016"]
    assert "not defined by CMS for PY2017" in reasons["459 2017"]
    assert "nonProportion" in reasons["459 2019"] and "nonProportion" in reasons["471 2019"]
    assert "not defined by CMS for PY2018" in reasons["471 2018"]
