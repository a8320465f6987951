"""CMS's measure and benchmark data kept in the project (dbt_project/seeds/qpp): the committed seeds are what the
extraction script makes of the kept JSON, a new qpp-measures-data release is extracted by data alone, and the
QPP writer checks each file against that data, skipping (and reporting) a bad file without stopping the others."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import qpp
from orchestration.settings import SEEDS_DIR
from publish_support import run_dbt_models
from registry_support import copy_registry

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "extract_qpp_reference.py"
QPP_DIR = SEEDS_DIR / "qpp"


def _script():
    spec = importlib.util.spec_from_file_location("extract_qpp_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_seeds_are_the_scripts_output_of_the_kept_json():
    script = _script()
    for name, rows in script.seed_rows().items():
        assert (QPP_DIR / f"{name}.csv").read_text() == script.seed_csv(name, rows), name


def test_seeds_say_what_cms_data_says():
    """A few facts read by hand from the JSON (issue 13): 459 is nonProportion in 2018-2019, single rate 2020-2023,
    discectomyLaminectmy/lumbarFusion in PY2024; 471 starts in 2019; no 459 benchmark in 2023-2026 (BR-009)."""
    script = _script()
    rows = script.seed_rows()
    years = {(r[0], int(r[1])): r[3] for r in rows["qpp_measure_years"]}
    assert years[("459", 2018)] == years[("459", 2019)] == "nonProportion"
    assert {years[("459", y)] for y in range(2020, 2024)} == {"singlePerformanceRate"}
    assert ("471", 2018) not in years and years[("471", 2019)] == "nonProportion"
    strata = {(r[0], int(r[1]), r[3]) for r in rows["qpp_measure_strata"]}
    assert {("459", 2024, "discectomyLaminectmy"), ("459", 2024, "lumbarFusion"),
            ("459", 2025, "lumbarDiscectomy")} <= strata
    no_benchmark = {(r[0], int(r[1])): r[11] for r in rows["qpp_benchmarks"] if r[3] is False}
    assert all(no_benchmark[("459", y)] == ["BR-009"] for y in range(2023, 2027))
    deciles_220_2024 = [r[4] for r in rows["qpp_benchmark_deciles"] if (r[0], int(r[1])) == ("220", 2024)]
    assert deciles_220_2024 == [45.98, 53.02, 58.18, 67.97, 75.3, 81.36, 93.55, 100, 100]


def test_a_new_cms_release_is_extracted_by_data_alone(tmp_path):
    """A qpp-measures-data checkout laid out as CMS's repository (with another measure the registry lacks and the
    exclusion-reasons file under both of its names) yields the same JSON and seeds as the kept ones."""
    measures = json.loads((QPP_DIR / "measures.json").read_text())
    benchmarks = json.loads((QPP_DIR / "benchmarks.json").read_text())
    checkout = tmp_path / "qpp-measures-data"
    other = {"measureId": "001", "title": "not in the registry", "metricType": "singlePerformanceRate"}
    for year, entries in measures.items():
        (checkout / "measures" / year).mkdir(parents=True)
        (checkout / "measures" / year / "measures-data.json").write_text(json.dumps([other, *entries]))
    for year, entries in benchmarks["benchmarks"].items():
        (checkout / "benchmarks" / year).mkdir(parents=True)
        (checkout / "benchmarks" / f"{year}.json").write_text(json.dumps([{**other, "submissionMethod": "claims"},
                                                                            *entries]))
    for year, entries in benchmarks["exclusion_reasons"].items():
        name = "benchmarks-exclusion-reasons.json" if year == "2026" else "benchmark-exclusion-reasons.json"
        (checkout / "benchmarks" / year / name).write_text(json.dumps(entries))
    (checkout / "package.json").write_text(json.dumps({"version": "99.0.0"}))
    seeds = tmp_path / "seeds"
    (seeds / "qpp").mkdir(parents=True)
    shutil.copy(SEEDS_DIR / "measures.csv", seeds / "measures.csv")
    shutil.copy(QPP_DIR / "source.json", seeds / "qpp" / "source.json")

    script = _script()
    script.extract_checkout(checkout, "abcdef1234", seeds)
    assert json.loads((seeds / "qpp" / "measures.json").read_text()) == measures
    assert json.loads((seeds / "qpp" / "benchmarks.json").read_text()) == benchmarks
    assert json.loads((seeds / "qpp" / "source.json").read_text())["version"] == "v99.0.0"
    new, kept = script.seed_rows(seeds / "qpp"), script.seed_rows()
    for name in kept:
        assert [row[:-1] for row in new[name]] == [row[:-1] for row in kept[name]], name
        assert all("v99.0.0 (abcdef1" in row[-1] for row in new[name]), name


def _warehouse(path: Path, cases: list[tuple], *edits: str) -> None:
    """The real registry and CMS tables, a case table (tin, year, measure, stratum, status), `edits` (SQL) applied,
    then the real dbt models the QPP files read (reporting.measure_performance, reporting.qpp_measurements)."""
    with duckdb.connect(str(path)) as con:
        copy_registry(con)
        con.execute("create schema marts")
        con.execute("create table marts.measure_cases (tin varchar, rendering_npi varchar, performance_year integer, "
                    "measure_id varchar, stratum varchar, status varchar, reason varchar)")
        con.executemany("insert into marts.measure_cases values (?, '1000000000', ?, ?, ?, ?, ?)",
                        [(*c, "not eligible: test" if c[4] == "not_eligible" else "test") for c in cases])
        for edit in edits:
            con.execute(edit)
    run_dbt_models(path, "measure_performance", "qpp_measurements")


CASES = [
    ("111111111", 2024, "459", "lumbarDiscectomy", "met"),
    ("111111111", 2024, "459", "lumbarFusion", "not_met"),
    ("111111111", 2024, "220", "overall", "met"),
    ("111111111", 2023, "459", "lumbarDiscectomy", "not_measured"),
    ("111111111", 2023, "459", "lumbarFusion", "not_eligible"),
    ("222222222", 2025, "459", "lumbarDiscectomy", "met"),
    ("222222222", 2019, "459", "lumbarDiscectomy", "not_eligible"),
    ("222222222", 2016, "220", "overall", "not_eligible"),
]


def test_files_follow_cms_data_of_their_year(tmp_path):
    _warehouse(tmp_path / "w.duckdb", CASES)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        report = qpp.write_submissions(con, tmp_path / "out", "registry")
    files = {p.name: json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json")}
    assert report.files == 3 and report.skipped == []
    assert set(files) == {"qpp_111111111_2024.json", "qpp_111111111_2023.json", "qpp_222222222_2025.json"}
    measurements = {(f["performanceYear"], m["measureId"]): m["value"]
                    for f in files.values() for m in f["measurementSets"][0]["measurements"]}
    assert [s["stratum"] for s in measurements[(2024, "459")]["strata"]] == ["discectomyLaminectmy", "lumbarFusion"]
    assert [s["stratum"] for s in measurements[(2025, "459")]["strata"]] == ["lumbarDiscectomy", "lumbarFusion"]
    assert "strata" not in measurements[(2023, "459")] and measurements[(2023, "459")]["eligiblePopulation"] == 1
    assert "strata" not in measurements[(2024, "220")]
    assert {(n["measure_id"], n["performance_year"]) for n in report.not_submitted} == {
        ("459", 2023), ("459", 2019), ("220", 2016)}


def test_a_bad_file_is_skipped_and_reported_the_others_are_written(tmp_path, caplog):
    """Make the registry claim 220 in PY2016 (a year QPP's schema refuses) and drop CMS's PY2024 strata of 459:
    both files are skipped with their problems, the PY2025 file is still written."""
    _warehouse(
        tmp_path / "w.duckdb", CASES,
        "update reference.measure_stratum_years set not_eligible_reason = null, "
        "metric_type = 'singlePerformanceRate' where measure_id = '220' and performance_year = 2016",
        "update marts.measure_cases set status = 'met' where performance_year = 2016",
        "delete from reference.qpp_measure_strata where measure_id = '459' and performance_year = 2024")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        report = qpp.write_submissions(con, tmp_path / "out", "registry")
    written = sorted(p.name for p in (tmp_path / "out").glob("*.json"))
    assert written == ["qpp_111111111_2023.json", "qpp_222222222_2025.json"]
    problems = {s["file"]: " ".join(s["problems"]) for s in report.skipped}
    assert "performanceYear: 2016 is less than the minimum of 2017" in problems["qpp_222222222_2016.json"]
    assert "CMS defines no such measure for PY2016" in problems["qpp_222222222_2016.json"]
    assert "strata are [], the file lists ['discectomyLaminectmy', 'lumbarFusion']" in problems[
        "qpp_111111111_2024.json"]
    assert "qpp_222222222_2016.json skipped" in caplog.text


@pytest.mark.parametrize("metric_type", ["singlePerformanceRate", "multiPerformanceRate"])
def test_check_against_cms_names_each_disagreement(metric_type):
    cms = {("459", 2024): {"metric_type": metric_type, "submission_methods": ["registry"],
                           "strata": ["discectomyLaminectmy", "lumbarFusion"]}}
    submission = {"performanceYear": 2024, "measurementSets": [{"submissionMethod": "claims", "measurements": [
        {"measureId": "459", "value": {"strata": [{"stratum": "lumbarDiscectomy"}, {"stratum": "lumbarFusion"}]}},
        {"measureId": "461", "value": {}},
    ]}]}
    problems = qpp.check_against_cms(submission, cms)
    assert any("submission methods" in p for p in problems)
    assert any("461: CMS defines no such measure for PY2024" in p for p in problems)
    assert any("strata" in p for p in problems)


def test_a_file_equal_to_the_previous_one_is_linked_unchecked_only_while_its_checks_are_the_same(tmp_path,
                                                                                                 monkeypatch):
    """Issue 16: a month leaves most files byte-equal to the previous publication's; those skip the schema and CMS
    checks, but only while the schema, CMS's data and the code they were checked with are the same: CMS's PY2024
    strata of 459 withdrawn afterwards skip the unchanged PY2024 file again."""
    _warehouse(tmp_path / "w.duckdb", CASES)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        first = qpp.write_submissions(con, tmp_path / "v1" / "qpp", "registry")
    assert (first.files, first.linked, first.checked) == (3, 0, 3)

    def must_not_run(*args):
        raise AssertionError("an unchanged file, checked against the same data, was checked again")

    with monkeypatch.context() as patched, duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        patched.setattr(qpp, "check_submission", must_not_run)
        second = qpp.write_submissions(con, tmp_path / "v2" / "qpp", "registry", previous=tmp_path / "v1" / "qpp")
    assert (second.files, second.linked, second.checked) == (3, 3, 0)
    assert (tmp_path / "v2" / "qpp" / "qpp_111111111_2024.json").stat().st_ino == (
        tmp_path / "v1" / "qpp" / "qpp_111111111_2024.json").stat().st_ino

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("delete from reference.qpp_measure_strata where measure_id = '459' and performance_year = 2024")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        third = qpp.write_submissions(con, tmp_path / "v3" / "qpp", "registry", previous=tmp_path / "v2" / "qpp")
    assert (third.files, third.linked, third.checked) == (2, 2, 3)
    assert [s["file"] for s in third.skipped] == ["qpp_111111111_2024.json"]
