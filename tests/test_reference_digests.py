"""Two kinds of incremental model rewrite what they hold when the code that shapes their rows changes, through a
digest that names that code by hand:

- the claim-line readers (macros/claim_line_readers.sql) rewrite every held line when their reference digest
  changes: the model's checksum and the rendered text of the macros its `claim_reader_reference(...)` call names;
- the code tables by unit (macros/reporting_units.sql) rebuild every unit when `reporting_code_checksum()` changes:
  the reporting models' checksums and the rendered text of the shared macros its `parts` list names.

A macro that shapes the rows but is not named there could change without rewriting the held rows, which would then
differ from a full rebuild. Every project macro such a model depends on is named (or reached from one named), or is
part of the incremental machinery, which does not decide what a row holds."""

from __future__ import annotations

import json
import re

import pytest

from orchestration.assets.dbt_models import ensure_manifest

PROJECT = "macro.spine_outcomes."
# how the models are written incrementally, not what a row holds
READER_MACHINERY = {"claim_materialization", "claim_incremental_strategy", "claim_reader_upgrade",
                    "claim_reader_reference", "claim_reader_deletions", "delete_deleted_rows", "on_touched_lines",
                    "run_var"}
UNIT_MACHINERY = {"reporting_materialization", "delete_touched_units", "delete_touched_periods", "touched_units_only"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(ensure_manifest().read_text())


def _reachable(manifest: dict, names: set[str]) -> set[str]:
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or PROJECT + name not in manifest["macros"]:
            continue
        seen.add(name)
        todo += [m.removeprefix(PROJECT) for m in manifest["macros"][PROJECT + name]["depends_on"]["macros"]
                 if m.startswith(PROJECT)]
    return seen


def _project_macros(node: dict) -> set[str]:
    return {m.removeprefix(PROJECT) for m in node["depends_on"]["macros"] if m.startswith(PROJECT)}


def test_every_macro_that_shapes_a_readers_rows_is_in_its_reference_digest(manifest):
    readers = [n for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and "claim_reader_reference(" in n["raw_code"]]
    assert {n["name"] for n in readers} >= {"int_reporting__code_lines", "int_rehab__visit_lines"}
    for node in readers:
        call = node["raw_code"].split("claim_reader_reference(", 1)[1].split("%}", 1)[0]
        named = _reachable(manifest, set(re.findall(r"(\w+)\(", call)))
        assert _project_macros(node) - named - READER_MACHINERY == set(), node["name"]


def test_every_macro_that_shapes_a_code_tables_rows_is_in_the_reporting_code_checksum(manifest):
    by_unit = [n for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and {PROJECT + "delete_touched_units", PROJECT + "delete_touched_periods"}
               & set(n["depends_on"]["macros"])]
    assert {n["name"] for n in by_unit} >= {"code_overview", "code_by_payer", "code_related_diagnoses",
                                            "code_related_procedures"}
    checksum = manifest["macros"][PROJECT + "reporting_code_checksum"]["macro_sql"]
    parts = checksum.split("set parts = [", 1)[1].split("] -%}", 1)[0]
    named = _reachable(manifest, set(re.findall(r"(\w+)\(", parts)))
    for node in by_unit:
        assert _project_macros(node) - named - UNIT_MACHINERY == set(), node["name"]
