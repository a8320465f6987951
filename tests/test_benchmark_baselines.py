"""The two benchmark baselines (plain DuckDB and pandas) on crafted landing files covering the measure-459
boundaries: they must agree with each other and with codes derived by hand from shared/spec/measures.md.

As-of date 2025-06-30. A discectomy on 2024-01-10 has its follow-up window 2024-02-21 (day 42) .. 2024-05-29
(day 140), nominal point 2024-04-10 (day 91) and pre-op window 2023-10-10 .. 2024-01-10.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import floor_duckdb, pandas_baseline  # noqa: E402
from benchmarks.bench_common import DISCECTOMY as D  # noqa: E402
from benchmarks.bench_common import FUSION as F  # noqa: E402
from benchmarks.bench_common import diff_counts  # noqa: E402

AS_OF = "2025-06-30"
ADULT = "1960-01-01"
SURGERY = "2024-01-10"

# person -> birth date (every other person is ADULT)
BIRTHS = {"p15": "2006-01-11", "p16": "2006-01-10"}

# (delivery, claim_id, line, person, date, hcpcs, dx1, payer)
CLAIMS = [
    ("2024-01", "c01", 1, "p01", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c02", 1, "p02", SURGERY, "63030", "M5126", "BCBS"),
    ("2024-01", "c03", 1, "p03", SURGERY, "63047", "M5126", "Aetna"),
    ("2024-01", "c04", 1, "p04", SURGERY, "63030", "M5126", "Medicare"),
    # fusion and decompression on the same day: one fusion case
    ("2023-03", "c05", 1, "p05", "2023-03-15", "22612", "M4316", "Medicare"),
    ("2023-03", "c05", 2, "p05", "2023-03-15", "63047", "M4316", "Medicare"),
    ("2023-03", "c06", 1, "p06", "2023-03-15", "22630", "M4316", "Medicare"),
    # staged surgery on consecutive days: two cases
    ("2024-01", "c07", 1, "p07", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c07b", 1, "p07", "2024-01-11", "22630", "M5126", "Medicare"),
    # exclusion diagnosis exactly 12 months before
    ("2023-01", "c08a", 1, "p08", "2023-01-10", "99213", "C412", "Medicare"),
    ("2024-01", "c08", 1, "p08", SURGERY, "63030", "M5126", "Medicare"),
    # exclusion diagnosis one day before the look-back and one day after the surgery: not excluded
    ("2023-01", "c09a", 1, "p09", "2023-01-09", "99213", "C412", "Medicare"),
    ("2024-01", "c09", 1, "p09", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c09b", 1, "p09", "2024-01-11", "99213", "C41.2", "Medicare"),
    # pending: window open at the as-of date, no post-op score
    ("2025-05", "c10", 1, "p10", "2025-05-01", "63030", "M5126", "Medicare"),
    # open window but G9945 reported: excluded outranks pending
    ("2025-05", "c11", 1, "p11", "2025-05-01", "63030", "M5126", "Medicare"),
    ("2025-05", "c11", 2, "p11", "2025-05-20", "G9945", "M5126", "Medicare"),
    # open window with a post-op score already: scored now
    ("2025-03", "c12", 1, "p12", "2025-03-01", "63030", "M5126", "Medicare"),
    ("2024-01", "c13", 1, "p13", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c14", 1, "p14", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c15", 1, "p15", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c16", 1, "p16", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-01", "c17", 1, "p17", SURGERY, "63030", "M5126", "Medicare"),
    # month-end clamping: fusion on 2024-05-31, pre-op window from 2024-02-29, follow-up from 2025-02-28
    ("2024-05", "c18", 1, "p18", "2024-05-31", "22612", "M4316", "Medicare"),
    # after the as-of date: ignored
    ("2025-07", "c19", 1, "p19", "2025-07-05", "63030", "M5126", "Medicare"),
    # a later delivery corrects the line to an office visit: no case
    ("2024-01", "c20", 1, "p20", SURGERY, "63030", "M5126", "Medicare"),
    ("2024-02", "c20", 1, "p20", SURGERY, "99213", "M5126", "Medicare"),
    ("2024-01", "c21", 1, "p21", SURGERY, "63030", "M5126", "UHC"),
    # a row the contract quarantines (bad date) carries a procedure code: no case
    ("2024-01", "c22", 1, "p22", "2024-13-10", "63030", "M5126", "Medicare"),
]

# (person, date, code, result)
SCORES = [
    ("p01", "2023-12-01", "72514-3", "8.0"),
    ("p01", "2024-02-20", "72514-3", "2.0"),   # day 41: outside
    ("p01", "2024-02-21", "72514-3", "6.0"),   # day 42: the only post-op score
    ("p02", "2023-10-10", "38214-3", "10.0"),  # exactly 3 months before: pre-op
    ("p02", "2024-05-29", "72514-3", "5.0"),   # day 140: inside
    ("p02", "2024-05-30", "72514-3", "1.0"),   # day 141: outside
    ("p03", "2023-10-09", "72514-3", "9.0"),   # one day before the pre-op window
    ("p03", "2024-04-10", "72514-3", "4.0"),
    ("p04", "2024-02-20", "72514-3", "1.0"),
    ("p04", "2024-05-30", "72514-3", "1.0"),
    ("p05", "2023-03-15", "72514-3", "8.0"),   # surgery day counts as pre-op
    ("p05", "2023-12-14", "72514-3", "2.0"),   # +9 months - 1 day: outside
    ("p05", "2024-06-15", "72514-3", "7.0"),   # +15 months: inside
    ("p06", "2023-12-15", "72514-3", "3.0"),   # +9 months, post exactly 3.0: met
    ("p06", "2024-06-16", "72514-3", "9.0"),   # +15 months + 1 day: outside
    ("p08", "2024-04-10", "72514-3", "1.0"),
    ("p09", "2024-04-10", "72514-3", "2.5"),
    ("p11", "2025-06-15", "72514-3", "1.0"),
    ("p12", "2025-05-01", "72514-3", "2.0"),
    ("p13", "2024-03-31", "72514-3", "9.0"),   # day 81
    ("p13", "2024-04-20", "72514-3", "1.0"),   # day 101: same distance, later wins
    ("p14", "2024-01-05", "72514-3", "9.0"),
    ("p14", "2024-01-05", "72514-3", "8.0"),   # same-day pre-op: the lowest
    ("p14", "2024-04-10", "72514-3", "2.0"),
    ("p14", "2024-04-10", "72514-3", "4.0"),   # same-day post-op: the highest
    ("p16", "2024-04-10", "72514-3", "1.0"),
    ("p17", "2024-01-01", "72514-3", "8.2"),
    ("p17", "2024-04-10", "72514-3", "3.2"),   # 8.2 - 3.2 = 5.0 exactly
    ("p18", "2024-02-29", "72514-3", "9.0"),
    ("p18", "2025-02-28", "72514-3", "4.0"),
    ("p21", "2024-04-10", "72514-3", "12"),    # out of range: quarantined
    ("p21", "2024-04-11", "72514-3", "n/a"),   # not numeric: quarantined
]

# person -> [(stratum, status, code)] derived by hand from the spec
EXPECTED = {
    "p01": [(D, "not_met", "G2137")],
    "p02": [(D, "met", "G2136")],
    "p03": [(D, "not_met", "G2137")],
    "p04": [(D, "not_measured", "G9943")],
    "p05": [(F, "not_met", "G2139")],
    "p06": [(F, "met", "G2138")],
    "p07": [(D, "not_measured", "G9943"), (F, "not_measured", "G9946")],
    "p08": [(D, "excluded", "G9945")],
    "p09": [(D, "met", "G2136")],
    "p10": [(D, "pending", None)],
    "p11": [(D, "excluded", "G9945")],
    "p12": [(D, "met", "G2136")],
    "p13": [(D, "met", "G2136")],
    "p14": [(D, "not_met", "G2137")],
    "p16": [(D, "met", "G2136")],
    "p17": [(D, "met", "G2136")],
    "p18": [(F, "met", "G2138")],
    "p21": [(D, "not_measured", "G9943")],
}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    header = ["claim_id", "claim_line_number", "person_id", "payer", "claim_start_date", "claim_line_start_date",
              "hcpcs_code", "diagnosis_code_1"]
    by_delivery: dict[str, list[list[str]]] = {}
    for delivery, claim, line, person, day, code, dx, payer in CLAIMS:
        by_delivery.setdefault(delivery, []).append([claim, str(line), person, payer, day, day, code, dx])
    for delivery, rows in by_delivery.items():
        _write(root / "medical_claim" / f"{delivery}.csv", header, rows)
    persons = sorted({c[3] for c in CLAIMS})
    _write(root / "eligibility" / "2020-01.csv", ["person_id", "birth_date", "gender", "enrollment_start_date", "payer"],
           [[p, BIRTHS.get(p, ADULT), "female", "2020-01-01", "Medicare"] for p in persons])
    _write(root / "observation" / "2024-01.csv", ["observation_id", "person_id", "observation_date", "source_code",
                                                   "result"],
           [[f"o{i}", p, d, c, r] for i, (p, d, c, r) in enumerate(SCORES)])
    return root


@pytest.fixture(scope="module")
def results(landing):
    return {
        "floor": floor_duckdb.compute(landing, AS_OF),
        "pandas": pandas_baseline.compute(landing, AS_OF),
    }


def _by_person(cases) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for person, stratum, status, code in zip(cases["person_id"], cases["stratum"], cases["status"],
                                             cases["qdc_code"]):
        out.setdefault(person, []).append((stratum, status, None if code is None or code != code else code))
    return {p: sorted(v, key=str) for p, v in out.items()}


@pytest.mark.parametrize("name", ["floor", "pandas"])
def test_codes_match_the_spec_by_hand(results, name):
    assert _by_person(results[name]["cases"]) == {p: sorted(v, key=str) for p, v in EXPECTED.items()}


def test_baselines_agree_on_counts_and_scores(results):
    floor, pandas = results["floor"], results["pandas"]
    assert diff_counts(floor["summary"], pandas["summary"], "floor", "pandas") == []
    columns = ["person_id", "stratum", "pre_score", "post_score", "improvement"]
    left = floor["cases"][columns].astype(str).values.tolist()
    right = pandas["cases"][columns].astype(str).values.tolist()
    assert sorted(map(tuple, left)) == sorted(map(tuple, right))


def test_improvement_is_exact(results):
    for name in ("floor", "pandas"):
        cases = results[name]["cases"]
        improvement = cases.loc[cases["person_id"] == "p17", "improvement"].iloc[0]
        assert str(improvement).rstrip("0") == "5."


def test_code_by_payer_counts_normalized_lines(results):
    for name in ("floor", "pandas"):
        frame = results[name]["by_payer"]
        totals = frame.groupby(["hcpcs_code", "payer"])["claim_lines"].sum().to_dict()
        # c02 "BCBS" normalizes to the seed's display name; the corrected line c20 counts once, as 99213
        assert totals[("63030", "Blue Cross Blue Shield")] == 1
        assert totals[("63030", "UnitedHealthcare")] == 1
        assert totals[("99213", "Medicare")] == 4
        assert sum(totals.values()) == len(CLAIMS) - 3  # c20's old version, c19 after as-of, c22 quarantined


# ---------------------------------------------------------------- measure 220 (the floor only)
#
# Crafted episodes, codes derived by hand from shared/spec/measures.md "Measure 220" with a fixed coefficient set:
# predicted change = 10 (+ 2.5 for a man), so residual = (discharge FS - intake FS) - 10 and met when >= 0.
# Every episode starts with a PT evaluation (97161) with a low back diagnosis (M54.50) rendered by TIN_220,
# unless said otherwise; day offsets count from the start. As-of date 2025-06-30.

AS_OF_220 = "2025-06-30"
TIN_220, OTHER_TIN = "123456789", "999999999"
COEFFICIENTS_220 = {"intercept": 10.0, "sex_male": 2.5}
START_220 = "2024-01-10"


def _day(offset: int, start: str = START_220) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(start) + timedelta(days=offset)).isoformat()


# person -> (start date, [(day offset, hcpcs, dx)], [(day offset, FS score)], [(day offset, vendor predicted)])
EVAL, VISIT, M1012 = "97161", "97110", "M1012"
LOW_BACK = "M54.50"
EPISODES_220 = {
    # residual exactly 0: met; -0.5: not met
    "q01": (START_220, [(0, EVAL, LOW_BACK), (7, VISIT, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "50")], []),
    "q02": (START_220, [(0, EVAL, LOW_BACK), (7, VISIT, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "49.5")],
            []),
    # intake window: 8 days before the start is outside, 7 days before inside (intake 40, not 30: 5 - 10 < 0)
    "q03": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(-8, "30"), (-7, "40"), (30, "45")], []),
    # the only FS 15 days after the start: no intake FS -> not measured
    "q04": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(15, "40"), (30, "60")], []),
    # a gap of exactly 60 days keeps the episode open: it ends at day 60, the discharge FS at end + 7 counts
    "q05": (START_220, [(0, EVAL, LOW_BACK), (60, VISIT, LOW_BACK)], [(0, "40"), (67, "55")], []),
    # a gap of 61 closes it at day 0: the discharge FS is the last by day 7 (45), not the one at day 61
    "q06": (START_220, [(0, EVAL, LOW_BACK), (61, VISIT, LOW_BACK)], [(0, "40"), (5, "45"), (61, "70")], []),
    # discharge FS at end + 7 counts, end + 8 does not
    "q07": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (37, "48"), (38, "80")], []),
    # M1012 closes the episode although visits continue
    "q08": (START_220, [(0, EVAL, LOW_BACK), (20, M1012, LOW_BACK), (30, VISIT, LOW_BACK), (40, VISIT, LOW_BACK)],
            [(0, "40"), (20, "45"), (40, "90")], []),
    # an evaluation inside an open episode starts nothing
    "q09": (START_220, [(0, EVAL, LOW_BACK), (10, EVAL, LOW_BACK), (20, M1012, LOW_BACK)], [(0, "40"), (20, "55")], []),
    # a new evaluation after the discharge starts a second episode (intake: the first FS from day 18, i.e. day 20's)
    "q10": (START_220, [(0, EVAL, LOW_BACK), (20, M1012, LOW_BACK), (25, EVAL, LOW_BACK), (50, M1012, LOW_BACK)],
            [(0, "40"), (20, "50"), (50, "80")], []),
    # an evaluation on the day of the closing M1012 starts nothing
    "q11": (START_220, [(0, EVAL, LOW_BACK), (20, M1012, LOW_BACK), (20, EVAL, LOW_BACK), (40, M1012, LOW_BACK)],
            [(0, "40"), (20, "50"), (40, "90")], []),
    # open: no M1012, last visit 46 days before the as-of date -> pending, no code
    "q12": ("2025-05-15", [(0, EVAL, LOW_BACK)], [(0, "40")], []),
    # last visit 61 days before the as-of date: closed by the gap, no discharge FS -> not measured in 2025
    "q13": ("2025-04-30", [(0, EVAL, LOW_BACK)], [(0, "40")], []),
    # multiple sclerosis (G35) diagnosed a year before the episode -> M1122 although scored
    "q14": (START_220, [(-365, "99213", "G35"), (0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "60")],
            []),
    # G35 first diagnosed the day after the episode end: not excluded
    "q15": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK), (31, "99213", "G35")], [(0, "40"), (30, "60")],
            []),
    # G9733 reported during the episode
    "q16": (START_220, [(0, EVAL, LOW_BACK), (10, "G9733", LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "60")],
            []),
    # M1122 and G9733 both reported: M1122 first
    "q17": (START_220, [(0, EVAL, LOW_BACK), (10, "G9733", LOW_BACK), (12, "M1122", LOW_BACK), (30, M1012, LOW_BACK)],
            [(0, "40"), (30, "60")], []),
    # 13 years old at the evaluation (birthday the next day): no episode, no case
    "q18": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "60")], []),
    # 14 on the day (the birthday counts)
    "q19": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "60")], []),
    # a TIN without any intake FS in 2024 is out of scope: no case (it would be G8662)
    "q20": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [], []),
    # the vendor's prediction dated the intake day wins over the open model: 11 - 12 < 0
    "q21": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "51")], [(0, "12"), (1, "0")]),
    # several FS on a day: the highest intake (45), the lowest discharge (54): 9 - 10 < 0
    "q22": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (0, "45"), (30, "60"), (30, "54")],
            []),
    # the discharge FS must be dated strictly after the intake FS: none -> not measured
    "q23": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (0, "60")], []),
    # a man: predicted 12.5, 12 - 12.5 < 0
    "q24": (START_220, [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "52")], []),
    # the performance year is the year of the episode end
    "q25": ("2024-12-20", [(0, EVAL, LOW_BACK), (26, M1012, LOW_BACK)], [(0, "40"), (26, "60")], []),
    # an episode ending before 220's first performance year (2017): not eligible
    "q26": ("2016-03-01", [(0, EVAL, LOW_BACK), (30, M1012, LOW_BACK)], [(0, "40"), (30, "60")], []),
    # a visit without a low back diagnosis does not extend the episode: closed by the gap at day 0
    "q27": (START_220, [(0, EVAL, LOW_BACK), (50, VISIT, "J069"), (100, VISIT, LOW_BACK)],
            [(0, "40"), (7, "50"), (100, "90")], []),
}
BIRTHS_220 = {"q18": "2010-01-11", "q19": "2010-01-10"}
MEN_220 = {"q24"}
OUT_OF_SCOPE_220 = {"q20"}

# person -> [(performance year, status, code)]
EXPECTED_220 = {
    "q01": [(2024, "met", "G8659")],
    "q02": [(2024, "not_met", "G8660")],
    "q03": [(2024, "not_met", "G8660")],
    "q04": [(2024, "not_measured", "G8662")],
    "q05": [(2024, "met", "G8659")],
    "q06": [(2024, "not_met", "G8660")],
    "q07": [(2024, "not_met", "G8660")],
    "q08": [(2024, "not_met", "G8660")],
    "q09": [(2024, "met", "G8659")],
    "q10": [(2024, "met", "G8659"), (2024, "met", "G8659")],
    "q11": [(2024, "met", "G8659")],
    "q12": [(2025, "pending", None)],
    "q13": [(2025, "not_measured", "G8662")],
    "q14": [(2024, "excluded", "M1122")],
    "q15": [(2024, "met", "G8659")],
    "q16": [(2024, "excluded", "G9733")],
    "q17": [(2024, "excluded", "M1122")],
    "q19": [(2024, "met", "G8659")],
    "q21": [(2024, "not_met", "G8660")],
    "q22": [(2024, "not_met", "G8660")],
    "q23": [(2024, "not_measured", "G8662")],
    "q24": [(2024, "not_met", "G8660")],
    "q25": [(2025, "met", "G8659")],
    "q26": [(2016, "not_eligible", None)],
    "q27": [(2024, "met", "G8659")],
}


@pytest.fixture(scope="module")
def landing_220(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing_220")
    header = ["claim_id", "claim_line_number", "person_id", "payer", "claim_start_date", "claim_line_start_date",
              "hcpcs_code", "diagnosis_code_1", "rendering_npi", "rendering_tin"]
    claims, scores = [], []
    for person, (start, lines, fs, predicted) in EPISODES_220.items():
        tin = OTHER_TIN if person in OUT_OF_SCOPE_220 else TIN_220
        for n, (offset, code, dx) in enumerate(lines):
            day = _day(offset, start)
            claims.append([f"{person}-{n}", "1", person, "Aetna", day, day, code, dx, "1234567893", tin])
        scores += [[person, _day(offset, start), "FOTO-LUMBAR-FS", value] for offset, value in fs]
        scores += [[person, _day(offset, start), "FOTO-LUMBAR-FS-PRED", value] for offset, value in predicted]
    _write(root / "medical_claim" / "2025-06.csv", header, claims)
    _write(root / "eligibility" / "2015-01.csv",
           ["person_id", "birth_date", "gender", "enrollment_start_date", "payer", "payer_type"],
           [[p, BIRTHS_220.get(p, ADULT), "male" if p in MEN_220 else "female", "2015-01-01", "Aetna", "commercial"]
            for p in EPISODES_220])
    _write(root / "observation" / "2025-06.csv", ["observation_id", "person_id", "observation_date", "source_code",
                                                   "result"],
           [[f"f{i}", *row] for i, row in enumerate(scores)])
    return root


@pytest.fixture(scope="module")
def floor_220(landing_220):
    return floor_duckdb.compute(landing_220, AS_OF_220, coefficients_220=COEFFICIENTS_220)


def test_floor_220_codes_match_the_spec_by_hand(floor_220):
    cases = floor_220["cases_220"]
    got: dict[str, list[tuple]] = {}
    for person, year, status, code in zip(cases["person_id"], cases["performance_year"], cases["status"],
                                          cases["qdc_code"]):
        got.setdefault(person, []).append((int(year), status, None if code is None or code != code else code))
    assert {p: sorted(v, key=str) for p, v in got.items()} == {p: sorted(v, key=str) for p, v in EXPECTED_220.items()}
    assert not floor_220["risk_model_fitted"]


def test_floor_220_residual_is_exact_and_names_its_predictor(floor_220):
    cases = floor_220["cases_220"].set_index("person_id")
    for column in ("start_date", "end_date"):
        cases[column] = cases[column].map(lambda d: str(d)[:10])
    assert str(cases.loc["q01", "residual"]).rstrip("0").rstrip(".") == "0"
    assert str(cases.loc["q02", "residual"]).rstrip("0") == "-0.5"
    assert cases.loc["q21", "predictor"] == "vendor" and float(cases.loc["q21", "predicted_change"]) == 12
    assert cases.loc["q24", "predictor"] == "open_model" and float(cases.loc["q24", "predicted_change"]) == 12.5
    # the episode boundaries behind the codes
    assert (cases.loc["q05", "start_date"], cases.loc["q05", "end_date"],
            cases.loc["q05", "end_reason"]) == (START_220, _day(60), "gap")
    assert (cases.loc["q06", "end_date"], cases.loc["q06", "end_reason"]) == (START_220, "gap")
    assert (cases.loc["q08", "end_date"], cases.loc["q08", "end_reason"]) == (_day(20), "discharge")
    second = cases.loc[["q10"]].sort_values("start_date").iloc[1]
    assert (second["start_date"], second["end_date"]) == (_day(25), _day(50))
    assert (float(second["intake_fs"]), float(second["discharge_fs"])) == (50.0, 80.0)


def test_floor_220_fits_the_open_model_when_no_coefficients_are_given(landing_220):
    # 19 reference episodes (closed, both scores, not excluded) and 14 terms: the fit runs and predicts every one
    result = floor_duckdb.compute(landing_220, AS_OF_220)
    assert result["risk_model_fitted"]
    assert set(result["coefficients_220"]) >= {"intercept", "intake_fs", "sex_male", "comorbidity_count"}
    open_model = result["cases_220"][result["cases_220"]["predictor"] == "open_model"]
    assert open_model["predicted_change"].notna().all()


@pytest.mark.slow
@pytest.mark.xdist_group("e2e")
def test_floor_220_agrees_with_the_pipeline_on_generated_data(pipeline_run):
    """The session's real pipeline run (8,000 generated persons with defects, a refit): the floor fits its own
    model on its own episodes and must find the pipeline's coefficients and the same cases by TIN, performance
    year, status and code."""
    import duckdb

    from orchestration.resources import resolve_as_of_date

    settings = pipeline_run.settings
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        as_of = resolve_as_of_date(con, settings)
        pipeline = {(t or "", int(y), s, c): n for t, y, s, c, n in con.execute(
            "select tin, performance_year, status, coalesce(qdc_code, ''), count(*) "
            "from marts.measure_cases where measure_id = '220' group by all").fetchall()}
        coefficients = dict(con.execute(
            "select term, coefficient from risk_model.coefficients where measure_id = '220' and version = "
            "(select max(version) from risk_model.coefficients where measure_id = '220')").fetchall())
    floor = floor_duckdb.compute(settings.landing_dir, as_of)
    assert floor["risk_model_fitted"] and coefficients
    assert floor["coefficients_220"] == pytest.approx(coefficients, rel=1e-6, abs=1e-9)
    assert sum(pipeline.values()) > 100
    assert diff_counts(pipeline, floor["summary_220"], "pipeline", "floor") == []
