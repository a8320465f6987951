"""A measure and a performance year are data (issue 13): on a copy of the dbt project whose seeds alone are edited,
  - a hypothetical 220-shaped measure gets its cases with its own codes, value sets and instrument, and
  - a second performance year's parameter rows (459 and 220) apply to that year's cases only, with one case per
    candidate (the former engine turned one 459 case into two rows and 220's cases into thousands).
No SQL or Python changes: only CSV rows (and CMS's JSON, turned into seeds by scripts/extract_qpp_reference.py)."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from conftest import DBT_PROJECT, DbtWarehouse
from crafted_claims import claim_lines, load_raw

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("measures_by_data")]

AS_OF = "2026-06-30"
BACK, LEG = "M54.50", "S93.401A"
FS, PRED = "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED"
LEG_FS, LEG_PRED = "FOTO-LOWER-LEG-FS", "FOTO-LOWER-LEG-FS-PRED"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "extract_qpp_reference.py"


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return project


def append_rows(seed: Path, rows: list[dict]) -> None:
    with seed.open() as handle:
        columns = next(csv.reader(handle))
    with seed.open("a", newline="") as handle:
        csv.DictWriter(handle, fieldnames=columns, lineterminator="\n").writerows(rows)


def edit_rows(seed: Path, match: dict, **changes) -> dict:
    """Change the matching row in place; return a copy of it as it was (to derive a second year's row from)."""
    with seed.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    hits = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(hits) == 1, (seed.name, match)
    before = dict(hits[0])
    hits[0].update(changes)
    with seed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return before


def add_hypothetical_measure(project: Path) -> list[str]:
    """Measure 900, 220-shaped: lower leg functional status. Returns the files touched."""
    seeds = project / "seeds"
    source = {"source": "hypothetical measure (test)"}
    append_rows(seeds / "measures.csv", [{"measure_id": "900", "family": "rehab", "first_performance_year": "2024",
                                          "title": "Functional Status Change, Lower Leg (hypothetical)", **source}])
    append_rows(seeds / "measure_strata.csv", [{"measure_id": "900", "stratum": "lowerLeg",
                                                "performance_year_from": "2024", **source}])
    template = next(csv.DictReader((seeds / "rehab_parameters.csv").open()))
    append_rows(seeds / "rehab_parameters.csv", [{
        **template, "measure_id": "900", "performance_year_from": "2024", "performance_year_to": "",
        "fs_instrument": "foto_lower_leg_fs", "predicted_change_instrument": "foto_lower_leg_fs_predicted",
        "diagnosis_value_set": "lower_leg_impairment", "code_met": "G8655", "code_not_met": "G8656",
        "code_not_measured": "G8658", **source}])
    append_rows(seeds / "rehab_exclusions.csv", [{
        "measure_id": "900", "priority": "1", "exclusion_code": "G9733", "diagnosis_value_set": "",
        "description": "unable to complete the PROM", "performance_year_from": "2024", **source}])
    append_rows(seeds / "rehab_diagnoses.csv", [
        {"value_set": "lower_leg_impairment", "diagnosis_code_prefix": prefix, "description": text,
         "performance_year_from": "2024", **source}
        for prefix, text in (("S934", "sprain of ankle"), ("M2557", "pain in ankle and foot"))])
    append_rows(seeds / "instruments.csv", [
        {"code": LEG_FS, "code_system": "local", "instrument": "foto_lower_leg_fs", "min_score": "0",
         "max_score": "100", "higher_is_better": "true", "description": "lower leg FS", **source},
        {"code": LEG_PRED, "code_system": "local", "instrument": "foto_lower_leg_fs_predicted", "min_score": "-100",
         "max_score": "100", "higher_is_better": "true", "description": "lower leg predicted change", **source}])
    append_rows(seeds / "risk_model_terms.csv", [
        {"measure_id": "900", "term": "intercept", "operator": "constant", "definition": "constant", **source},
        {"measure_id": "900", "term": "intake_fs", "input": "intake_fs", "operator": "value",
         "definition": "intake FS", **source}])
    # CMS's data gains the measure (as a new qpp-measures-data release would); the seeds follow by the script
    measures_json = seeds / "qpp" / "measures.json"
    measures = json.loads(measures_json.read_text())
    for year in ("2024", "2025", "2026"):
        measures[year].append({"measureId": "900", "title": "Functional Status Change, Lower Leg (hypothetical)",
                               "metricType": "singlePerformanceRate", "firstPerformanceYear": 2024,
                               "lastPerformanceYear": None, "isInverse": False, "submissionMethods": ["registry"],
                               "strata": []})
    measures_json.write_text(json.dumps(measures))
    spec = importlib.util.spec_from_file_location("extract_qpp_reference", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.write_seeds(seeds / "qpp")
    return ["seeds/measures.csv", "seeds/measure_strata.csv", "seeds/rehab_parameters.csv",
            "seeds/rehab_exclusions.csv", "seeds/rehab_diagnoses.csv", "seeds/instruments.csv",
            "seeds/risk_model_terms.csv", "seeds/qpp/measures.json (then scripts/extract_qpp_reference.py)"]


def test_a_220_shaped_measure_by_data_alone(tmp_path):
    project = copy_project(tmp_path)
    touched = add_hypothetical_measure(project)
    assert len(touched) == 8
    warehouse = DbtWarehouse(tmp_path, project)
    claims = claim_lines([
        # measure 900: met (residual 0), not met (-0.5), no discharge FS, G9733, and one of 2023 (before its first
        # performance year: not_eligible)
        ("q_met", "2025-01-05", "97161", "111111111", LEG), ("q_met", "2025-02-10", "M1012", "111111111", LEG),
        ("q_not_met", "2025-01-05", "97161", "111111111", LEG),
        ("q_not_met", "2025-02-10", "M1012", "111111111", LEG),
        ("q_no_discharge", "2025-01-05", "97162", "111111111", "M25.571"),
        ("q_no_discharge", "2025-02-10", "M1012", "111111111", LEG),
        ("q_g9733", "2025-01-05", "97161", "111111111", LEG), ("q_g9733", "2025-01-06", "G9733", "111111111", LEG),
        ("q_g9733", "2025-02-10", "M1012", "111111111", LEG),
        ("q_2023", "2023-03-06", "97161", "111111111", LEG), ("q_2023", "2023-04-10", "M1012", "111111111", LEG),
        # measure 220 beside it, unchanged
        ("p_met", "2025-01-05", "97161", "111111111", BACK), ("p_met", "2025-02-10", "M1012", "111111111", BACK),
    ])
    scores = [
        ("q_met", "2025-01-05", LEG_FS, "40"), ("q_met", "2025-01-05", LEG_PRED, "10"),
        ("q_met", "2025-02-10", LEG_FS, "50"),
        ("q_not_met", "2025-01-05", LEG_FS, "40"), ("q_not_met", "2025-01-05", LEG_PRED, "10"),
        ("q_not_met", "2025-02-10", LEG_FS, "49.5"),
        ("q_no_discharge", "2025-01-05", LEG_FS, "40"),
        ("q_g9733", "2025-01-05", LEG_FS, "40"),
        ("q_2023", "2023-03-06", LEG_FS, "40"), ("q_2023", "2023-03-06", LEG_PRED, "5"),
        ("q_2023", "2023-04-10", LEG_FS, "60"),
        # the lumbar FS does not count for the lower leg measure, nor the reverse
        ("p_met", "2025-01-05", FS, "40"), ("p_met", "2025-01-05", PRED, "10"), ("p_met", "2025-02-10", FS, "55"),
        ("p_met", "2025-02-10", LEG_FS, "10"),
    ]
    load_raw(warehouse.path, claims, sorted(claims["person_id"].unique()), scores)
    # everything, the registry's and CMS-consistency tests included (unit tests are code tests, run elsewhere; the code
    # labels are written by the dbt step (orchestration/assets/code_labels.py), absent here, so their readers are left out)
    warehouse.dbt("build", "--exclude", "test_type:unit", "source:labels+", "--vars", json.dumps({"as_of_date": AS_OF}))

    cases = {person: (measure, stratum, status, code, year) for person, measure, stratum, status, code, year
             in warehouse.query("select person_id, measure_id, stratum, status, qdc_code, performance_year "
                                "from marts.measure_cases")}
    assert cases == {
        "q_met": ("900", "lowerLeg", "met", "G8655", 2025),
        "q_not_met": ("900", "lowerLeg", "not_met", "G8656", 2025),
        "q_no_discharge": ("900", "lowerLeg", "not_measured", "G8658", 2025),
        "q_g9733": ("900", "lowerLeg", "excluded", "G9733", 2025),
        "q_2023": ("900", "lowerLeg", "not_eligible", None, 2023),
        "p_met": ("220", "overall", "met", "G8659", 2025),
    }
    assert warehouse.query("select reason from marts.measure_cases where person_id = 'q_2023'") == [
        ("measure 900 is not defined by CMS for PY2023 (performance years 2024-)",)]
    codes = warehouse.query("select outcome, code from reference.measure_codes where measure_id = '900' order by 1")
    assert codes == [("excluded", "G9733"), ("met", "G8655"), ("not_measured", "G8658"), ("not_met", "G8656")]
    terms = warehouse.query("select distinct term from intermediate.int_rehab__episode_features "
                            "where measure_id = '900' order by 1")
    assert terms == [("intake_fs",), ("intercept",)]


def add_second_year(project: Path) -> None:
    """PY2025 rows that differ from PY2024's: 459 discectomy post-op threshold 2.5 (was 3.0); 220 residual
    threshold -1 (was 0). The PY2024 rows end in 2024."""
    seeds = project / "seeds"
    old = edit_rows(seeds / "pairs_parameters.csv", {"measure_id": "459", "stratum": "lumbarDiscectomy"},
                    performance_year_to="2024")
    append_rows(seeds / "pairs_parameters.csv", [{**old, "performance_year_from": "2025", "met_post_max": "2.5",
                                                  "source": "PY2025 (test)"}])
    old = edit_rows(seeds / "rehab_parameters.csv", {"measure_id": "220"}, performance_year_to="2024")
    append_rows(seeds / "rehab_parameters.csv", [{**old, "performance_year_from": "2025", "residual_met_min": "-1",
                                                  "source": "PY2025 (test)"}])


def test_a_second_years_rows_apply_to_that_year_only_one_case_each(tmp_path):
    project = copy_project(tmp_path)
    add_second_year(project)
    warehouse = DbtWarehouse(tmp_path, project)
    claims = claim_lines([
        # 459 discectomy: procedure 2024-03-05 (window end 2024-07-23, PY2024) and 2025-03-05 (PY2025), the same
        # scores: pre-op 6.8, post-op 2.8 -> met under 3.0, not met under 2.5
        ("s_2024", "2024-03-05", "63030", "111111111", "M51.16"), ("s_2025", "2025-03-05", "63030", "111111111", "M51.16"),
        # 220: residual -0.5 -> not met in PY2024 (>= 0), met in PY2025 (>= -1)
        ("e_2024", "2024-01-08", "97161", "111111111", BACK), ("e_2024", "2024-02-12", "M1012", "111111111", BACK),
        ("e_2025", "2025-01-06", "97161", "111111111", BACK), ("e_2025", "2025-02-10", "M1012", "111111111", BACK),
        # an episode that starts in 2024 and ends in 2025 is PY2025's
        ("e_cross", "2024-12-02", "97161", "111111111", BACK), ("e_cross", "2025-01-13", "M1012", "111111111", BACK),
    ])
    scores = [
        ("s_2024", "2024-03-01", "72514-3", "6.8"), ("s_2024", "2024-06-04", "72514-3", "2.8"),
        ("s_2025", "2025-03-01", "72514-3", "6.8"), ("s_2025", "2025-06-04", "72514-3", "2.8"),
    ] + [
        score for person, start, end in (("e_2024", "2024-01-08", "2024-02-12"), ("e_2025", "2025-01-06", "2025-02-10"),
                                         ("e_cross", "2024-12-02", "2025-01-13"))
        for score in ((person, start, FS, "40"), (person, start, PRED, "10"), (person, end, FS, "49.5"))
    ]
    load_raw(warehouse.path, claims, sorted(claims["person_id"].unique()), scores)
    warehouse.dbt("build", "--exclude", "test_type:unit", "source:labels+", "--vars", json.dumps({"as_of_date": AS_OF}))

    rows = warehouse.query("select person_id, measure_id, performance_year, status, case_id from marts.measure_cases")
    assert len({r[4] for r in rows}) == len(rows)
    outcome = {(person, measure): (year, status) for person, measure, year, status, _ in rows}
    assert outcome[("s_2024", "459")] == (2024, "met")
    assert outcome[("s_2025", "459")] == (2025, "not_met")
    assert outcome[("e_2024", "220")] == (2024, "not_met")
    assert outcome[("e_2025", "220")] == (2025, "met")
    assert outcome[("e_cross", "220")] == (2025, "met")
    # one case per measure and procedure or episode: 2 surgeries x 3 measures + 3 episodes
    assert len(rows) == 2 * 3 + 3
    assert warehouse.query("select count(*) from intermediate.int_rehab__episodes") == [(3,)]
