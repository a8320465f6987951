"""Real browser on the real code location: dagster-webserver loads workspace.yaml (orchestration.definitions),
on the DAGSTER_HOME of a real pipeline run, and the asset graph shows the dbt layers as groups; a dbt asset's
row count (dagster-dbt's fetch_row_counts) is read from the UI and equals the table's count in the warehouse."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from test_ui_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, REPO, _free_port, _wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"chromium is not installed at {CHROMIUM}"),
]

MODEL = "code_overview"


@pytest.fixture
def real_webserver(pipeline_run, tmp_path):
    settings = pipeline_run.settings
    port = _free_port()
    env = {**os.environ, **settings.environment(), "DATA_DIR": str(settings.data_dir),
           "DAGSTER_HOME": str(settings.data_dir / "dagster_home"), "DAGSTER_DISABLE_TELEMETRY": "true",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    log = open(tmp_path / "webserver.log", "w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port),
         "-w", str(REPO / "workspace.yaml")],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        _wait_for(f"http://127.0.0.1:{port}/server_info", timeout=300)
        yield f"http://127.0.0.1:{port}", settings
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_asset_graph_of_the_real_code_location_shows_a_dbt_row_count(real_webserver):
    from playwright.sync_api import expect, sync_playwright

    base, settings = real_webserver
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(f"select count(*) from reporting.{MODEL}").fetchone()[0]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(f"{base}/asset-groups")
        skip = page.get_by_role("button", name="Skip")
        try:
            skip.click(timeout=15_000)  # the first-visit community dialog
        except Exception:  # noqa: BLE001  (no dialog this time)
            pass
        # the dbt layers are groups of the real code location
        for group in ("staging", "intermediate", "marts", "reporting", "publication"):
            expect(page.get_by_text(group, exact=True).first).to_be_visible()
        # the reporting layer's asset graph, and the row count in the selected asset's sidebar
        page.goto(f"{base}/locations/spine_outcomes/asset-groups/reporting")
        # the graph renders only the nodes in view: filter it to the model with the graph's own selection box
        # (a CodeMirror editor: its visible lines take the click, the keyboard goes to its hidden textarea)
        page.locator(".CodeMirror").first.click()
        page.keyboard.type(f'key:"{MODEL}"')
        page.keyboard.press("Escape")  # close the suggestions, so Enter applies the typed selection
        page.keyboard.press("Enter")
        node = page.get_by_text(MODEL, exact=True).first
        expect(node).to_be_visible(timeout=60_000)
        node.click()
        # the sidebar's latest materialization lists the metadata by key
        row_count = page.get_by_role("row", name="dagster/row_count").first
        expect(row_count).to_be_visible(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "asset_graph_row_count.png"), full_page=True)
        sidebar = row_count.inner_text()
        browser.close()
    shown = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", sidebar)]
    assert rows in shown, f"row count {rows:,} not shown in the dagster/row_count row: {sidebar!r}"
