"""Crafted claims and scores around one as-of date, built through the real dbt models (raw -> staging -> measure
cases -> follow-up worklist) once per test session: each person sits at one edge of a window relative to the
as-of date. Shared by the worklist's boundary, export and check tests."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest

from orchestration.ingest.ledger import create_ledger

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


_BUILT: dict[str, object] = {}


@pytest.fixture(scope="session")
def worklist_warehouse(tmp_path_factory):
    """A DATA_DIR whose warehouse.duckdb holds the crafted rows and every model built at AS_OF. Built once per
    process: each test module importing this fixture gets its own fixture instance, all of them this warehouse."""
    from conftest import DbtWarehouse

    if "warehouse" in _BUILT:
        return _BUILT["warehouse"]
    wh = DbtWarehouse(tmp_path_factory.mktemp("follow_up"))
    _insert_raw(wh)
    with duckdb.connect(str(wh.path)) as con:
        create_ledger(con)
    wh.dbt("build", "--select", "+follow_up_worklist", "+follow_up_counts", "+measure_cases",
           "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test",
           "--vars", json.dumps({"as_of_date": AS_OF.isoformat()}))
    _BUILT["warehouse"] = wh
    return wh
