"""Guards on the test suite itself, so CI stays within its time budget."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_module_imports_the_session_pipeline_run():
    """`pipeline_run` (one real pipeline run per session) is registered once in conftest.py; a module importing it
    gets a fixture of its own, and the whole pipeline runs again for that module."""
    importers = [p.name for p in TESTS.glob("*.py")
                 if re.search(r"^from e2e_support import .*\bpipeline_run\b", p.read_text(), re.MULTILINE)]
    assert importers == []
