"""The follow-up worklist at its boundaries, on crafted claims and scores through the real dbt models (raw ->
staging -> measure cases -> worklist) at one as-of date: each person sits at one edge of a window relative to it
(docs/worklist.md)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

AS_OF = date(2026, 6, 30)
TIN, OTHER_TIN = "111111111", "222222222"
BACK_PAIN, FS = "72514-3", "FOTO-LUMBAR-FS"
DECOMPRESSION, FUSION = "63030", "22612"
LUMBAR_DISC, LOW_BACK_PAIN, EXCLUDING = "M51.16", "M54.50", "C41.2"


def day(offset: int) -> date:
    """The as-of date moved by `offset` days."""
    return AS_OF + timedelta(days=offset)


# person: (procedure code, procedure date, diagnosis, TIN). Discectomy window day +42 .. +140, nominal +91;
# fusion +9 .. +15 months, nominal +12 months.
SURGERIES = {
    "opens_tomorrow": (DECOMPRESSION, day(-41), LUMBAR_DISC, TIN),           # day +41: not yet due
    "opens_today": (DECOMPRESSION, day(-42), LUMBAR_DISC, TIN),              # day +42: due now
    "days_left_15": (DECOMPRESSION, day(-125), LUMBAR_DISC, TIN),            # due now
    "days_left_14": (DECOMPRESSION, day(-126), LUMBAR_DISC, TIN),            # closing within 14 days
    "last_day_tomorrow": (DECOMPRESSION, day(-139), LUMBAR_DISC, TIN),       # day +139
    "closes_today": (DECOMPRESSION, day(-140), LUMBAR_DISC, TIN),            # day +140 = as-of: closed, missed
    "closed_yesterday": (DECOMPRESSION, day(-141), LUMBAR_DISC, OTHER_TIN),  # day +141
    "missed_30_days_ago": (DECOMPRESSION, day(-170), LUMBAR_DISC, TIN),      # still listed (retention 30)
    "missed_31_days_ago": (DECOMPRESSION, day(-171), LUMBAR_DISC, TIN),      # dropped
    "scored_in_window": (DECOMPRESSION, day(-100), LUMBAR_DISC, TIN),        # post-op score on day +91: not listed
    "excluded_open": (DECOMPRESSION, day(-60), EXCLUDING, TIN),           # never listed
    "excluded_closed": (DECOMPRESSION, day(-141), EXCLUDING, TIN),        # never listed
    "fusion_opens_today": (FUSION, date(2025, 9, 30), LUMBAR_DISC, TIN),     # +9 months = as-of
    "fusion_opens_tomorrow": (FUSION, date(2025, 10, 1), LUMBAR_DISC, TIN),
    "fusion_closes_today": (FUSION, date(2025, 3, 30), LUMBAR_DISC, TIN),    # +15 months = as-of: missed
}
SURGERY_SCORES = [
    ("opens_today", day(-50), BACK_PAIN, "7"),            # a pre-op score: only the post-op one is missing
    ("scored_in_window", day(-9), BACK_PAIN, "2"),
]

EVAL, VISIT, DISCHARGE, UNABLE = "97161", "97110", "M1012", "G9733"
# person: [(date, code)], all with a low back diagnosis, TIN 111111111 (in scope: its episodes have intake FS)
EPISODES = {
    "open_60": [(day(-80), EVAL), (day(-60), VISIT)],              # last visit 60 days ago: still open
    "closed_61": [(day(-81), EVAL), (day(-61), VISIT)],            # 61 days: closed by the gap, missed
    "due_now_220": [(day(-30), EVAL), (day(-10), VISIT)],          # open, 50 days before the gap closes it
    "discharged_3_days_ago": [(day(-30), EVAL), (day(-3), DISCHARGE)],   # discharge FS may still come (+7)
    "discharged_7_days_ago": [(day(-30), EVAL), (day(-7), DISCHARGE)],   # its discharge FS window ends today
    "intake_due": [(day(-13), EVAL)],                               # intake window ends tomorrow
    "intake_missed": [(day(-14), EVAL), (day(-5), VISIT)],          # intake window ends today: missed
    "scored_220": [(day(-40), EVAL), (day(-10), VISIT)],            # intake and a later FS: not listed
    "excluded_220": [(day(-20), EVAL), (day(-19), UNABLE)],         # G9733: never listed
}
EPISODE_SCORES = [
    ("open_60", day(-80), FS, "40"),
    ("closed_61", day(-81), FS, "40"),
    ("due_now_220", day(-30), FS, "40"),
    ("discharged_3_days_ago", day(-30), FS, "40"),
    ("discharged_7_days_ago", day(-30), FS, "40"),
    ("scored_220", day(-40), FS, "40"),
    ("scored_220", day(-10), FS, "60"),
    ("excluded_220", day(-20), FS, "40"),
]


def _insert_raw(wh) -> None:
    claims = [
        (person, code, when, dx, tin) for person, (code, when, dx, tin) in SURGERIES.items()
    ] + [
        (person, code, when, LOW_BACK_PAIN, TIN) for person, visits in EPISODES.items() for when, code in visits
    ]
    wh.execute(
        "insert into raw.medical_claim (claim_id, claim_line_number, person_id, payer, claim_start_date, hcpcs_code,"
        " diagnosis_code_1, rendering_npi, rendering_tin, _delivery, _loaded_at, _line_number) values "
        + ", ".join(
            f"('c{i}', 1, '{person}', 'Medicare', DATE '{when}', '{code}', '{dx}', '1234567893', '{tin}',"
            f" 'd1', TIMESTAMP '2026-07-01', {i + 2})"
            for i, (person, code, when, dx, tin) in enumerate(claims)
        )
    )
    persons = [*SURGERIES, *EPISODES]
    wh.execute(
        "insert into raw.eligibility (person_id, gender, birth_date, enrollment_start_date, payer, payer_type) values "
        + ", ".join(f"('{p}', 'female', DATE '1960-01-01', DATE '2020-01-01', 'Medicare', 'medicare')" for p in persons)
    )
    wh.execute(
        "insert into raw.observation (person_id, observation_date, source_code, result) values "
        + ", ".join(f"('{p}', DATE '{d}', '{c}', '{r}')" for p, d, c, r in SURGERY_SCORES + EPISODE_SCORES)
    )


@pytest.fixture(scope="module")
def worklist_warehouse(tmp_path_factory):
    from conftest import DbtWarehouse

    wh = DbtWarehouse(tmp_path_factory.mktemp("follow_up"))
    _insert_raw(wh)
    wh.dbt("build", "--select", "+follow_up_worklist", "+follow_up_counts", "+measure_cases",
           "--exclude-resource-type", "unit_test", "--vars", json.dumps({"as_of_date": AS_OF.isoformat()}))
    return wh


def _rows(wh, measure: str) -> dict[str, dict]:
    columns = ["person_id", "status", "missing", "window_opens", "target_date", "window_closes", "days_left",
               "case_status", "tin", "as_of_date"]
    rows = wh.query(f"select {', '.join(columns)} from marts.follow_up_worklist where measure_id = '{measure}'")
    return {r[0]: dict(zip(columns, r)) for r in rows}


pytestmark = [pytest.mark.xdist_group("follow_up_worklist")]


def test_459_statuses_at_every_window_edge(worklist_warehouse):
    rows = _rows(worklist_warehouse, "459")
    assert {p: (r["status"], r["days_left"]) for p, r in rows.items()} == {
        "opens_tomorrow": ("not_yet_due", 99),
        "opens_today": ("due_now", 98),
        "days_left_15": ("due_now", 15),
        "days_left_14": ("closing_within_14_days", 14),
        "last_day_tomorrow": ("closing_within_14_days", 1),
        "closes_today": ("missed", 0),
        "closed_yesterday": ("missed", -1),
        "missed_30_days_ago": ("missed", -30),
        "fusion_opens_today": ("due_now", 183),
        "fusion_opens_tomorrow": ("not_yet_due", 185),
        "fusion_closes_today": ("missed", 0),
    }


def test_459_dates_are_the_case_windows(worklist_warehouse):
    rows = _rows(worklist_warehouse, "459")
    assert (rows["opens_today"]["window_opens"], rows["opens_today"]["target_date"],
            rows["opens_today"]["window_closes"]) == (AS_OF, day(-42 + 91), day(-42 + 140))
    fusion = rows["fusion_opens_today"]
    assert (fusion["window_opens"], fusion["target_date"], fusion["window_closes"]) == (
        date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 30))
    assert rows["opens_today"]["missing"] == "post_op_score"
    assert rows["opens_tomorrow"]["missing"] == "pre_op_score, post_op_score"
    assert rows["closed_yesterday"]["tin"] == OTHER_TIN
    assert {r["case_status"] for p, r in rows.items() if r["status"] == "missed"} == {"not_measured"}
    assert {r["case_status"] for p, r in rows.items() if r["status"] != "missed"} == {"pending"}
    assert {r["as_of_date"] for r in rows.values()} == {AS_OF}


def test_the_sibling_measures_list_their_own_instrument(worklist_warehouse):
    # only the back pain score was given: the leg pain (461) and ODI (471) cases of that surgery are still open
    expected = {*_rows(worklist_warehouse, "459"), "scored_in_window"}
    assert _rows(worklist_warehouse, "461").keys() == expected
    assert _rows(worklist_warehouse, "471").keys() == expected


def test_220_statuses_at_every_edge(worklist_warehouse):
    rows = _rows(worklist_warehouse, "220")
    assert {p: (r["status"], r["missing"], r["days_left"], r["case_status"]) for p, r in rows.items()} == {
        "open_60": ("closing_within_14_days", "discharge_fs", 0, "pending"),
        "closed_61": ("missed", "discharge_fs", -1, "not_measured"),
        "due_now_220": ("due_now", "discharge_fs", 50, "pending"),
        # M1012 closed the episode (the case counts as not measured today), but a discharge FS dated up to 7 days
        # after it would still count: listed until then
        "discharged_3_days_ago": ("closing_within_14_days", "discharge_fs", 4, "not_measured"),
        "discharged_7_days_ago": ("missed", "discharge_fs", 0, "not_measured"),
        "intake_due": ("closing_within_14_days", "intake_fs, discharge_fs", 1, "pending"),
        # the intake window closed: the open episode can only end not measured
        "intake_missed": ("missed", "intake_fs, discharge_fs", 0, "pending"),
    }
    assert (rows["open_60"]["window_opens"], rows["open_60"]["target_date"], rows["open_60"]["window_closes"]) == (
        day(-79), None, AS_OF)
    assert rows["discharged_3_days_ago"]["target_date"] == day(-3)
    assert (rows["intake_due"]["window_opens"], rows["intake_due"]["target_date"]) == (day(-20), day(-13))


def test_the_cases_agree_with_the_worklist(worklist_warehouse):
    wh = worklist_warehouse
    cases = dict(wh.query("select person_id || '/' || measure_id, status from marts.measure_cases"))
    listed = dict(wh.query("select person_id || '/' || measure_id, status from marts.follow_up_worklist"))
    assert cases["excluded_open/459"] == cases["excluded_closed/459"] == cases["excluded_220/220"] == "excluded"
    assert not {k for k in listed if cases[k] == "excluded"}
    assert cases["scored_in_window/459"] == "met" and "scored_in_window/459" not in listed
    assert cases["scored_220/220"] == "pending" and "scored_220/220" not in listed
    assert cases["missed_31_days_ago/459"] == "not_measured" and "missed_31_days_ago/459" not in listed


def test_counts_add_up_without_identifiers(worklist_warehouse):
    wh = worklist_warehouse
    counts = {
        (m, t): (o, s, ny, dn, cs, mi)
        for m, t, o, s, ny, dn, cs, mi in wh.query(
            "select measure_id, tin, open_cases, scored_in_window, not_yet_due, due_now, closing_soon, missed"
            " from marts.follow_up_counts")
    }
    # 459 on TIN 111111111: 2 not yet due, 3 due now (fusion included), 2 closing, 3 missed; 1 scored in window
    assert counts[("459", TIN)] == (8, 1, 2, 3, 2, 3)
    assert counts[("459", OTHER_TIN)] == (0, 0, 0, 0, 0, 1)
    assert counts[("220", TIN)] == (5, 1, 0, 1, 3, 3)
    columns = {c for (c,) in wh.query(
        "select column_name from information_schema.columns where table_name = 'follow_up_counts'")}
    assert not columns & {"person_id", "case_id", "rendering_npi"}
