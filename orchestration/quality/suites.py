"""Suites live as reviewed JSON files in expectations/ and are read at run time, never built in code."""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestration.settings import EXPECTATIONS_DIR

SEVERITIES = ("error", "warn")


def suite_path(name: str, expectations_dir: Path | None = None) -> Path:
    """QUALITY_EXPECTATIONS_DIR points the checks at a reviewed copy of the suites (e.g. a draft branch's)."""
    base = expectations_dir or os.environ.get("QUALITY_EXPECTATIONS_DIR") or EXPECTATIONS_DIR
    return Path(base) / f"{name}.json"


def load_suite(name: str, expectations_dir: Path | None = None) -> dict:
    """The suite as a dict; every expectation must say which rule it enforces and how severe a failure is."""
    path = suite_path(name, expectations_dir)
    suite = json.loads(path.read_text())
    for i, expectation in enumerate(suite.get("expectations", [])):
        meta = expectation.get("meta") or {}
        if not meta.get("rule") or meta.get("severity") not in SEVERITIES:
            raise ValueError(
                f"{path}: expectation {i} ({expectation.get('type')}) needs meta.rule and meta.severity in {SEVERITIES}"
            )
    return suite


def default_parameters(suite: dict) -> dict:
    """Suite parameters with a default kept in the suite's meta (overridden at run time from seeds)."""
    params = (suite.get("meta") or {}).get("parameters") or {}
    return {name: spec["default"] for name, spec in params.items() if "default" in spec}
