"""dbt unit tests are tests of the code: they run in `make test`, never inside a materialization, and each one
pins every run variable its model reads, so it passes whatever as-of date, TIN list or model version a run
configures (on the command line, or in the pipeline's run context: dbt_project/macros/run_var.sql)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from orchestration.assets.dbt_models import BUILD, MANIFEST
from orchestration.settings import DBT_PROJECT_DIR
from test_follow_up_worklist_dbt_unit import SELECTION as FOLLOW_UP_UNIT_TESTS
from test_measure_220_unit import UNIT_TESTS as REHAB_UNIT_TESTS
from test_measure_459_dbt_unit import UNIT_TESTS as PAIRS_UNIT_TESTS
from test_reporting_units_dbt_unit import SELECTION as REPORTING_UNIT_TESTS

# models read run variables through run_var('name') (or var('name')): both name the variable literally
VAR_CALL = re.compile(r"""\b(?:run_)?var\(\s*['"](\w+)['"]""")
# dbt_project.yml's vars are fixed properties of the input layer, the same in every run: not run variables
FIXED_VARS = set(yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text()).get("vars") or {})


def _manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def test_every_materialization_leaves_unit_tests_out():
    assert BUILD == ["build", "--exclude-resource-type", "unit_test"]


def test_every_unit_test_pins_the_vars_its_model_reads():
    manifest = _manifest()
    # A var named inside a macro would escape the check below: models name theirs (run_var reads the one its
    # caller names, so it names none itself).
    assert not [m["name"] for m in manifest["macros"].values()
                if m["package_name"] == "spine_outcomes" and VAR_CALL.search(m["macro_sql"])]
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    unpinned = {}
    for test in manifest["unit_tests"].values():
        read = set(VAR_CALL.findall(models[test["model"]]["raw_code"])) - FIXED_VARS
        missing = read - set((test.get("overrides") or {}).get("vars") or {})
        if missing:
            unpinned[test["name"]] = sorted(missing)
    assert not unpinned, f"unit tests that do not pin the vars their model reads: {unpinned}"


def test_every_unit_test_is_run_by_a_pytest(tmp_path):
    """The runners' selections together cover every unit test of the project (a new YAML file too)."""
    every = {t["unique_id"] for t in _manifest()["unit_tests"].values()}
    dbt = [str(Path(sys.executable).with_name("dbt")), "--quiet", "ls", "--resource-type", "unit_test",
           "--output", "json", "--output-keys", "unique_id", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
           "--log-path", str(tmp_path / "logs")]
    covered: set[str] = set()
    for selection in (PAIRS_UNIT_TESTS, REHAB_UNIT_TESTS, FOLLOW_UP_UNIT_TESTS, REPORTING_UNIT_TESTS):
        out = subprocess.run([*dbt, "--select", *selection], capture_output=True, text=True, check=True,
                             env={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PATH": "/usr/bin:/bin"})
        covered |= {json.loads(line)["unique_id"] for line in out.stdout.splitlines() if line.startswith("{")}
    assert every and every - covered == set()
