"""The incremental claim-line readers (macros/claim_line_readers.sql) rewrite every held line when their reference
digest changes: the model's checksum and the rendered text of the macros its `claim_reader_reference(...)` call
names. A macro that shapes the rows but is not named there could change without rewriting the held lines, which
would then differ from a full rebuild. Every project macro a reader depends on is named there (or reached from one
named there), or is part of the incremental machinery, which does not decide what a row holds."""

from __future__ import annotations

import json
import re

from orchestration.assets.dbt_models import ensure_manifest

PROJECT = "macro.spine_outcomes."
# how the readers are written incrementally, not what a row holds
MACHINERY = {"claim_materialization", "claim_incremental_strategy", "claim_reader_upgrade", "claim_reader_reference",
             "claim_reader_deletions", "delete_deleted_rows", "on_touched_lines", "run_var"}


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


def test_every_macro_that_shapes_a_readers_rows_is_in_its_reference_digest():
    manifest = json.loads(ensure_manifest().read_text())
    readers = [n for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and "claim_reader_reference(" in n["raw_code"]]
    assert {n["name"] for n in readers} >= {"int_reporting__code_lines", "int_rehab__visit_lines"}
    for node in readers:
        call = node["raw_code"].split("claim_reader_reference(", 1)[1].split("%}", 1)[0]
        named = _reachable(manifest, set(re.findall(r"(\w+)\(", call)))
        used = {m.removeprefix(PROJECT) for m in node["depends_on"]["macros"] if m.startswith(PROJECT)}
        assert used - named - MACHINERY == set(), node["name"]
