"""The quality-data code seed's published labels (measure_note, role_note, status) are clean and agree with the
registry: the research notes (CONFIRMED / UNCONFIRMED / inferred, vendor pages, "219 (NOT 220)") live only in the
maintainers' `evidence` column, which no published table carries."""

from __future__ import annotations

import csv
import re

import duckdb

from orchestration.settings import SEEDS_DIR
from registry_support import copy_registry

SEED = SEEDS_DIR / "quality_data_codes.csv"
PUBLISHED_COLUMNS = ("hcpcs_code", "measure_note", "role_note", "long_descriptor", "status", "source")
RESEARCH_NOTE = re.compile(r"\bconfirmed|unconfirmed|not 220|inferred|vbca|healthmonix", re.IGNORECASE)
# The registry's outcome of a code -> the role label the seed must give it.
ROLE_OF_OUTCOME = {"met": "Performance Met", "not_met": "Performance Not Met", "not_measured": "Not measured",
                   "excluded": "Denominator exclusion"}


def _seed() -> list[dict[str, str]]:
    with SEED.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_published_label_columns_hold_no_research_note():
    rows = _seed()
    assert set(rows[0]) == {*PUBLISHED_COLUMNS, "evidence"}
    leaks = [(row["hcpcs_code"], column, row[column]) for row in rows for column in PUBLISHED_COLUMNS
             if RESEARCH_NOTE.search(row[column])]
    assert leaks == []
    # the notes were kept for maintainers, not lost
    assert any("UNCONFIRMED" in row["evidence"] for row in rows)
    assert any("219 (NOT 220)" in row["evidence"] for row in rows)


def test_status_is_active_or_a_termination_date():
    assert {row["hcpcs_code"]: row["status"] for row in _seed()
            if not re.fullmatch(r"active|terminated \d{4}-\d{2}-\d{2}", row["status"])} == {}


def test_role_of_every_code_the_pipeline_assigns_agrees_with_the_registry():
    roles = {row["hcpcs_code"]: row["role_note"] for row in _seed()}
    with duckdb.connect() as con:
        copy_registry(con)
        assigned = con.execute("select distinct code, outcome from reference.measure_codes").fetchall()
    assert assigned
    wrong = {code: (roles.get(code), ROLE_OF_OUTCOME[outcome]) for code, outcome in assigned
             if roles.get(code) != ROLE_OF_OUTCOME[outcome]}
    assert wrong == {}, "seed role_note vs the registry's outcome"
