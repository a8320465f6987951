"""The follow-up worklist at its boundaries, on crafted claims and scores through the real dbt models (raw ->
staging -> measure cases -> worklist) at one as-of date: each person sits at one edge of a window relative to it
(docs/worklist.md; the data are in follow_up_support.py)."""

from __future__ import annotations

from datetime import date

import pytest

from follow_up_support import AS_OF, OTHER_TIN, TIN, day, worklist_warehouse  # noqa: F401  (session fixture)


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
