"""Real browser: dagster-webserver shows a failed blocking GX check of a run, with its metadata.

Debian's Chromium driven headless by Playwright. `make test` installs it (scripts/install_chromium.sh); a bare
pytest without it skips these tests with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from checks_standin import definitions, good_tables, write_tables

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"chromium is not installed at {CHROMIUM}"),
]

CODE_LOCATION = """
from pathlib import Path
import os
from checks_standin import definitions
defs = definitions(Path(os.environ["DATA_DIR"]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"dagster-webserver did not answer on {url} within {timeout}s")


@pytest.fixture
def failed_run(tmp_path, monkeypatch):
    """A DAGSTER_HOME holding one run whose blocking check gx_score_pairs failed (a post-op score of 11)."""
    home, data = tmp_path / "dagster_home", tmp_path / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DATA_DIR", str(data))
    data.mkdir()
    tables = good_tables()
    tables["score_pairs"].loc[0, "post_score"] = 11
    tables["score_pairs"].loc[0, "post_score_date"] = date(2025, 7, 29)
    write_tables(data / "warehouse.duckdb", tables)
    defs = definitions(data)
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance, raise_on_error=False)
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["gx_score_pairs"]
    (tmp_path / "location.py").write_text(CODE_LOCATION)
    return tmp_path, result.run_id


@pytest.fixture
def webserver(failed_run):
    root, run_id = failed_run
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_DISABLE_TELEMETRY": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
    }
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    log = open(root / "webserver.log", "w")
    proc = subprocess.Popen(
        [str(webserver_bin), "-h", "127.0.0.1", "-p", str(port), "-f", str(root / "location.py")],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/server_info")
        yield f"http://127.0.0.1:{port}", run_id
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_failed_check_of_the_run_shows_result_and_metadata(webserver):
    from playwright.sync_api import expect, sync_playwright

    base, run_id = webserver
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{base}/runs/{run_id}")
        skip = page.get_by_role("button", name="Skip")
        skip.wait_for()
        skip.click()  # the first-visit community dialog covers the page
        page.get_by_text("3 checks").click()
        check_link = page.get_by_text("gx_score_pairs", exact=True).first
        try:
            expect(check_link).to_be_visible()
        finally:
            page.screenshot(path=str(ARTIFACTS / "run_checks_list.png"))
        check_link.click()
        page.wait_for_url("**/assets/score_pairs**")
        expect(page.get_by_text("Failed").first).to_be_visible()
        for key in ("rows_validated", "failed_errors", "data_docs", "expectations"):
            expect(page.get_by_text(key).first).to_be_visible()
        # the expectations are a table: a row per rule, the failed one marked
        expect(page.get_by_text("expect_column_pair_values_a_to_be_greater_than_b", exact=False).first).to_be_visible()
        expect(page.get_by_text("FAILED", exact=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "failed_gx_check.png"), full_page=True)
        content = page.content()
        browser.close()
    assert "P-SECRET" not in content
