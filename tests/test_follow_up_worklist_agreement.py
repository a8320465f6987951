"""The worklist and the cases agree over time: one generated data set, built at an early and at a late as-of date.
Every case that ends not measured was on the worklist while its window was open, the late worklist lists exactly
the recently missed cases, and no excluded or scored case is ever listed (docs/worklist.md)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from orchestration.ingest.discovery import discover_deliveries
from orchestration.ingest.loader import load_delivery
from orchestration.sample_data.cli import generate

PERSONS, SEED = 4_000, 11
DATA = ("2024-01-01", "2025-06-30")
EARLY, LATE = "2024-12-31", "2025-06-30"
OPEN_STATUSES = ("not_yet_due", "due_now", "closing_within_14_days")
RETENTION_DAYS = 30

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("follow_up_worklist")]


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """{as_of: {"cases": {case_id: row}, "worklist": {case_id: row}}} of one data set at both as-of dates."""
    from conftest import DbtWarehouse

    root = tmp_path_factory.mktemp("follow_up_agreement")
    generate(PERSONS, SEED, root / "landing", start=DATA[0], end=DATA[1])
    wh = DbtWarehouse(root)
    with duckdb.connect(str(wh.path)) as con:
        for delivery, tables in sorted(discover_deliveries(root / "landing").items()):
            for table, files in tables.items():
                load_delivery(con, table, delivery, files, root / "landing")
    found = {}
    for as_of in (EARLY, LATE):
        wh.dbt("build", "--select", "+follow_up_worklist", "+measure_cases", "--indirect-selection", "cautious",
               "--exclude-resource-type", "unit_test",
               "--vars", json.dumps({"as_of_date": as_of}))
        found[as_of] = {
            name: {
                row["case_id"]: row
                for row in (dict(zip(columns, values)) for values in wh.query(f"select {', '.join(columns)} from {table}"))
            }
            for name, table, columns in (
                ("cases", "marts.measure_cases",
                 ["case_id", "measure_id", "status", "window_end", "pre_score", "post_score"]),
                ("worklist", "marts.follow_up_worklist", ["case_id", "measure_id", "status", "days_left"]),
            )
        }
    return found


def test_every_case_that_ends_not_measured_was_listed_while_open(snapshots):
    early, late = snapshots[EARLY], snapshots[LATE]
    ended_not_measured = {
        case_id for case_id, case in late["cases"].items()
        if case["status"] == "not_measured" and early["cases"].get(case_id, {}).get("status") == "pending"
    }
    by_measure = {m: sum(late["cases"][c]["measure_id"] == m for c in ended_not_measured) for m in ("459", "220")}
    assert min(by_measure.values()) >= 5, f"too few cases to show anything: {by_measure}"
    assert not ended_not_measured - early["worklist"].keys()
    for case_id in ended_not_measured:
        listed = early["worklist"][case_id]
        if listed["measure_id"] != "220":
            assert listed["status"] in OPEN_STATUSES, (case_id, listed)
        elif listed["status"] not in OPEN_STATUSES:
            # 220: only a missed intake is missed while the episode goes on
            assert early["cases"][case_id]["pre_score"] is None, (case_id, listed)


def test_the_late_worklist_lists_exactly_the_recently_missed_459_family_cases(snapshots):
    late = snapshots[LATE]
    missed = {c for c, row in late["worklist"].items() if row["status"] == "missed" and row["measure_id"] != "220"}
    expected = {
        c for c, case in late["cases"].items()
        if case["measure_id"] != "220" and case["status"] == "not_measured"
        and (date.fromisoformat(LATE) - case["window_end"]).days <= RETENTION_DAYS
    }
    assert missed == expected and missed


@pytest.mark.parametrize("as_of", [EARLY, LATE])
def test_listed_cases_match_the_case_outcomes(snapshots, as_of):
    cases, worklist = snapshots[as_of]["cases"], snapshots[as_of]["worklist"]
    pending_pairs_without_score = {
        c for c, case in cases.items() if case["measure_id"] != "220" and case["status"] == "pending"
    }
    assert pending_pairs_without_score and pending_pairs_without_score <= worklist.keys()
    assert {cases[c]["status"] for c in worklist} <= {"pending", "not_measured"}
    scored = {c for c, case in cases.items() if case["pre_score"] is not None and case["post_score"] is not None}
    assert not scored & worklist.keys()
