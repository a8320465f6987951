"""Session 8 conformance audit: ten years of crafted history (2016-2025) at four as-of dates, every expected outcome
derived by hand from shared/spec/measures.md and CMS's measure data (shared/reference/qpp), not from the project's
sample generator. What it pins (docs/measures_review.md "Session 8 review"):

- the performance year is the year of the follow-up window's end (459) / of the episode's end (220), not of the
  procedure or the start: a discectomy of 2019-08-15 is PY2020 (a single-rate year), an episode from 2017-12-01 to
  2018-01-10 is PY2018;
- nothing is counted for a measure or stratum in a year CMS does not define it: 459 before PY2018 and in its
  nonProportion years 2018-2019, 471 before PY2019, the fusion stratum before PY2024, 220 before PY2017;
- the QPP rows of a year carry CMS's metric type and stratum names of that year (PY2024 discectomyLaminectmy);
- the as-of date: data after it are ignored, an open window / episode is pending, and the same person's case
  changes as later as-of dates let later claims in.
Each as-of date runs on its own throwaway warehouse (the whole dbt graph to measure_cases and the QPP rows).
"""

from __future__ import annotations

import pytest

from crafted_claims import claim_lines, load_raw

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spec_audit_history")]

TIN, BACK, FS, PRED, PAIN = "111111111", "M54.50", "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED", "72514-3"
LUMBAR_DX = "M51.16"

CLAIMS = claim_lines([
    # 459, discectomy before the measure's first year (window end 2016-07-19): not_eligible
    ("h2016", "2016-03-01", "63030", TIN, LUMBAR_DX),
    # window end 2018-07-19: PY2018, a nonProportion year: not_eligible
    ("h2018", "2018-03-01", "63030", TIN, LUMBAR_DX),
    # procedure in 2019, window end 2020-01-02: PY2020 (single rate); post 2 on day +91 -> met G2136
    ("h2019", "2019-08-15", "63030", TIN, LUMBAR_DX),
    # PY2021: pre 9, post 5 on 2021-05-03 (improvement 4) -> not met G2137
    ("h2021", "2021-02-01", "63030", TIN, LUMBAR_DX),
    # fusion whose window ends 2023-09-01: the fusion stratum starts in PY2024 -> not_eligible
    ("h2022f", "2022-06-01", "22612", TIN, LUMBAR_DX),
    # fusion 2023-03-15, window 2023-12-15 .. 2024-06-15: PY2024; post 3 at +12 months -> met G2138
    ("h2023f", "2023-03-15", "22612", TIN, LUMBAR_DX),
    # decompression + fusion on the same day 2024-05-31: one fusion case; pre window from 2024-02-29 (clamped),
    # window 2025-02-28 .. 2025-08-31: PY2025; pre 9 on 2024-02-29, post 4.0 on 2025-05-31 -> improvement 5.0 met
    ("h2024s", "2024-05-31", "63030", TIN, LUMBAR_DX),
    ("h2024s", "2024-05-31", "22633", TIN, LUMBAR_DX),
    # window end 2026-02-18, open on 2025-12-31, no post-op score: pending (PY2026)
    ("h2025p", "2025-10-01", "63030", TIN, LUMBAR_DX),
    # spinal metastasis exactly 12 months before the procedure: G9945 although the window is open
    ("h2025x", "2024-09-01", "99213", TIN, "C79.51"),
    ("h2025x", "2025-09-01", "63030", TIN, LUMBAR_DX),
    # 220 before PY2017: not_eligible
    ("r2016", "2016-03-01", "97161", TIN, BACK),
    ("r2016", "2016-04-15", "M1012", TIN, BACK),
    # started 2017-12-01, discharged 2018-01-10: PY2018; 50 - 40 - 10 = 0 -> met G8659
    ("r2017", "2017-12-01", "97161", TIN, BACK),
    ("r2017", "2018-01-10", "M1012", TIN, BACK),
    # no M1012: open on 2019-06-30 (last visit 41 days before); later closed by the gap, PY2019; 45 - 40 - 10 < 0
    ("r2019", "2019-05-01", "97161", TIN, BACK),
    ("r2019", "2019-05-20", "97110", TIN, BACK),
    # visits 60 days apart keep the episode open, 61 close it: episode 2021-01-04 .. 2021-03-05; the discharge FS
    # is the last by end + 7 (2021-03-12, 45), not the one of 2021-03-13 (20): 45 - 30 - 15 = 0 -> met
    ("r2021", "2021-01-04", "97161", TIN, BACK),
    ("r2021", "2021-03-05", "97110", TIN, BACK),
    ("r2021", "2021-05-05", "97110", TIN, BACK),
])
PERSONS = sorted(CLAIMS["person_id"].unique())
SCORES = [
    ("h2019", "2019-08-01", PAIN, "8"), ("h2019", "2019-11-14", PAIN, "2"),
    ("h2021", "2021-01-15", PAIN, "9"), ("h2021", "2021-05-03", PAIN, "5"),
    ("h2023f", "2024-03-15", PAIN, "3"),
    ("h2024s", "2024-02-29", PAIN, "9"), ("h2024s", "2025-05-31", PAIN, "4.0"),
    ("r2016", "2016-03-01", FS, "40"), ("r2016", "2016-04-15", FS, "60"),
    ("r2017", "2017-12-01", FS, "40"), ("r2017", "2017-12-01", PRED, "10"), ("r2017", "2018-01-10", FS, "50"),
    ("r2019", "2019-05-01", FS, "40"), ("r2019", "2019-05-01", PRED, "10"), ("r2019", "2019-05-20", FS, "45"),
    ("r2021", "2021-01-04", FS, "30"), ("r2021", "2021-01-04", PRED, "15"), ("r2021", "2021-03-12", FS, "45"),
    ("r2021", "2021-03-13", FS, "20"),
]

# (person, measure) -> (status or code, performance year), by hand from the spec and CMS's data
EXPECTED = {
    "2017-12-31": {
        ("h2016", "459"): ("not_eligible", 2016), ("h2016", "461"): ("not_eligible", 2016),
        ("h2016", "471"): ("not_eligible", 2016),
        ("r2016", "220"): ("not_eligible", 2016),
        # the M1012 of 2018-01-10 is after the as-of date: open, its end so far 2017-12-01
        ("r2017", "220"): ("pending", 2017),
    },
    "2019-06-30": {
        ("h2016", "459"): ("not_eligible", 2016), ("h2016", "461"): ("not_eligible", 2016),
        ("h2016", "471"): ("not_eligible", 2016),
        ("h2018", "459"): ("not_eligible", 2018), ("h2018", "461"): ("not_eligible", 2018),
        ("h2018", "471"): ("not_eligible", 2018),
        ("r2016", "220"): ("not_eligible", 2016),
        ("r2017", "220"): ("G8659", 2018),
        ("r2019", "220"): ("pending", 2019),
    },
    "2021-12-31": {
        ("h2016", "459"): ("not_eligible", 2016), ("h2016", "461"): ("not_eligible", 2016),
        ("h2016", "471"): ("not_eligible", 2016),
        ("h2018", "459"): ("not_eligible", 2018), ("h2018", "461"): ("not_eligible", 2018),
        ("h2018", "471"): ("not_eligible", 2018),
        ("h2019", "459"): ("G2136", 2020), ("h2019", "461"): ("G9949", 2020), ("h2019", "471"): ("M1049", 2020),
        ("h2021", "459"): ("G2137", 2021), ("h2021", "461"): ("G9949", 2021), ("h2021", "471"): ("M1049", 2021),
        ("r2016", "220"): ("not_eligible", 2016),
        ("r2017", "220"): ("G8659", 2018),
        ("r2019", "220"): ("G8660", 2019),
        ("r2021", "220"): ("G8659", 2021),
    },
}
EXPECTED["2025-12-31"] = {
    **EXPECTED["2021-12-31"],
    ("h2022f", "459"): ("not_eligible", 2023), ("h2022f", "461"): ("not_eligible", 2023),
    ("h2022f", "471"): ("not_eligible", 2023),
    ("h2023f", "459"): ("G2138", 2024), ("h2023f", "461"): ("M1052", 2024), ("h2023f", "471"): ("M1043", 2024),
    ("h2024s", "459"): ("G2138", 2025), ("h2024s", "461"): ("M1052", 2025), ("h2024s", "471"): ("M1043", 2025),
    ("h2025p", "459"): ("pending", 2026), ("h2025p", "461"): ("pending", 2026), ("h2025p", "471"): ("pending", 2026),
    ("h2025x", "459"): ("G9945", 2026), ("h2025x", "461"): ("G9945", 2026), ("h2025x", "471"): ("G9945", 2026),
}


@pytest.mark.parametrize("as_of", sorted(EXPECTED))
def test_ten_years_of_crafted_history_at_an_as_of_date(dbt_warehouse, as_of):
    load_raw(dbt_warehouse.path, CLAIMS, PERSONS, SCORES, )
    dbt_warehouse.dbt("build", "--select", "+measure_cases", "+qpp_measurements", "--indirect-selection", "cautious",
                      "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test",
                      "--vars", f'{{"as_of_date": "{as_of}"}}')
    cases = dbt_warehouse.query(
        "select person_id, measure_id, stratum, coalesce(qdc_code, status), performance_year, reason "
        "from marts.measure_cases")
    assert {(p, m): (outcome, year) for p, m, _, outcome, year, _ in cases} == EXPECTED[as_of]
    assert len(cases) == len(EXPECTED[as_of])  # one case per person and measure: the same-day pair is one case
    strata = {(p, m): s for p, m, s, *_ in cases}
    if ("h2024s", "459") in strata:
        assert strata["h2024s", "459"] == "lumbarFusion"
    reasons = {(p, m): r for p, m, _, _, _, r in cases}
    if ("h2018", "471") in reasons:
        assert reasons["h2018", "459"] == ("PY2018 measure 459 is a nonProportion measure in CMS data, which this "
                                           "pipeline does not compute")
        assert reasons["h2018", "471"].startswith("measure 471 is not defined by CMS for PY2018")
    if ("h2022f", "459") in reasons:
        assert reasons["h2022f", "459"] == "stratum lumbarFusion of measure 459 is not defined by CMS for PY2023"

    # what QPP gets: only years CMS computes, CMS's metric type and stratum names of each year
    qpp = dbt_warehouse.query(
        "select performance_year, measure_id, metric_type, qpp_stratum, performance_met, performance_not_met, "
        "eligible_population from reporting.qpp_measurements order by 1, 2, 4")
    expected_qpp = {
        "2017-12-31": [],
        "2019-06-30": [(2018, "220", "singlePerformanceRate", None, 1, 0, 1)],
        "2021-12-31": [
            (2018, "220", "singlePerformanceRate", None, 1, 0, 1),
            (2019, "220", "singlePerformanceRate", None, 0, 1, 1),
            (2020, "459", "singlePerformanceRate", None, 1, 0, 1),
            (2020, "461", "singlePerformanceRate", None, 0, 1, 1),
            (2020, "471", "singlePerformanceRate", None, 0, 1, 1),
            (2021, "220", "singlePerformanceRate", None, 1, 0, 1),
            (2021, "459", "singlePerformanceRate", None, 0, 1, 1),
            (2021, "461", "singlePerformanceRate", None, 0, 1, 1),
            (2021, "471", "singlePerformanceRate", None, 0, 1, 1),
        ],
    }
    expected_qpp["2025-12-31"] = sorted([
        *expected_qpp["2021-12-31"],
        (2024, "459", "multiPerformanceRate", "discectomyLaminectmy", 0, 0, 0),
        (2024, "459", "multiPerformanceRate", "lumbarFusion", 1, 0, 1),
        (2024, "461", "multiPerformanceRate", "discectomyLaminectmy", 0, 0, 0),
        (2024, "461", "multiPerformanceRate", "lumbarFusion", 0, 1, 1),
        (2024, "471", "multiPerformanceRate", "discectomyLaminectmy", 0, 0, 0),
        (2024, "471", "multiPerformanceRate", "lumbarFusion", 0, 1, 1),
        (2025, "459", "multiPerformanceRate", "lumbarDiscectomy", 0, 0, 0),
        (2025, "459", "multiPerformanceRate", "lumbarFusion", 1, 0, 1),
        (2025, "461", "multiPerformanceRate", "lumbarDiscectomy", 0, 0, 0),
        (2025, "461", "multiPerformanceRate", "lumbarFusion", 0, 1, 1),
        (2025, "471", "multiPerformanceRate", "lumbarDiscectomy", 0, 0, 0),
        (2025, "471", "multiPerformanceRate", "lumbarFusion", 0, 1, 1),
        # PY2026: the excluded case makes the measure counted; it leaves the eligible population
        (2026, "459", "multiPerformanceRate", "lumbarDiscectomy", 0, 0, 0),
        (2026, "459", "multiPerformanceRate", "lumbarFusion", 0, 0, 0),
        (2026, "461", "multiPerformanceRate", "lumbarDiscectomy", 0, 0, 0),
        (2026, "461", "multiPerformanceRate", "lumbarFusion", 0, 0, 0),
        (2026, "471", "multiPerformanceRate", "lumbarDiscectomy", 0, 0, 0),
        (2026, "471", "multiPerformanceRate", "lumbarFusion", 0, 0, 0),
    ], key=lambda r: (r[0], r[1], r[3] or ""))
    assert qpp == expected_qpp[as_of]
