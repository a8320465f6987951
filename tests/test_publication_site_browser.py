"""Real browser on the publication site of a real pipeline run, opened from file:// as an analyst would: the index
filters, the G2137, G8659 and measure 459 pages show what the published tables hold (read here with DuckDB), the
dbt docs render offline, and no page logs a console error or asks for anything outside the publication.

Debian's Chromium driven headless by Playwright, launched as tests/test_ui_browser.py does.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from orchestration.resources import resolve_as_of_date
from test_ui_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"chromium is not installed at {CHROMIUM}"),
]


def count(value) -> str:
    return "hidden" if value is None else f"{int(value):,}"


def pct(value) -> str:
    return "hidden" if value is None else f"{float(value):.2f}%"


class Site:
    """The pages of one publication version and its database, read independently of the site's code."""

    def __init__(self, page, root: Path, db: duckdb.DuckDBPyConnection):
        self.page, self.root, self.db = page, root, db

    def rows(self, sql: str, *params) -> list[dict]:
        cursor = self.db.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def cell(self, table: str, key: str, column: str) -> str:
        return self.page.locator(f'{table} tr[data-key="{key}"] td[data-col="{column}"]').text_content().strip()

    def visible_rows(self) -> int:
        return self.page.locator("#codes-table tbody tr:visible").count()


def check_index(site: Site, version: str, as_of: str) -> None:
    page = site.page
    assert page.locator('[data-meta="version"]').inner_text() == version
    assert page.locator('[data-meta="as-of"]').inner_text() == as_of
    codes = site.rows("select code, role_note, claim_lines, cases_assigned, claim_lines_suppressed, "
                      "cases_assigned_suppressed from code_catalog where is_quality_data_code")
    assert site.visible_rows() == len(codes)
    assert page.locator("#filter-count").inner_text() == f"{len(codes)} of {len(codes)} codes"
    for code in codes:
        assert site.cell("#codes-table", code["code"], "claim_lines") == count(code["claim_lines"])
        assert site.cell("#codes-table", code["code"], "cases_assigned") == count(code["cases_assigned"])
        occurs = code["claim_lines_suppressed"] or code["cases_assigned_suppressed"] or \
            code["claim_lines"] > 0 or code["cases_assigned"] > 0
        link = page.locator(f'#codes-table tr[data-key="{code["code"]}"] a')
        assert link.count() == (1 if occurs else 0), code["code"]

    page.fill("#filter-text", "g2137")
    assert site.visible_rows() == 1
    assert page.locator("#codes-table tbody tr:visible").get_attribute("data-key") == "G2137"
    page.fill("#filter-text", "")
    page.select_option("#filter-role", "Performance Met")
    assert site.visible_rows() == sum(c["role_note"] == "Performance Met" for c in codes) >= 2
    page.select_option("#filter-role", "")
    page.check("#filter-occurs")
    assert site.visible_rows() == page.locator("#codes-table tbody tr a").count() < len(codes)
    page.uncheck("#filter-occurs")


def check_code_page(site: Site, code: str) -> None:
    page = site.page
    info = site.rows("select * from code_catalog where code = ?", code)[0]
    assert page.locator("h1").inner_text().startswith(code)
    assert page.locator('dd[data-fact="Claim lines"]').inner_text() == count(info["claim_lines"])
    assert page.locator('dd[data-fact="Cases assigned this code"]').inner_text() == count(info["cases_assigned"])
    years = site.rows("select * from code_overview where code = ? and period_type = 'year'", code)
    assert years
    for year in years:
        for column in ("claim_lines", "claims", "persons", "rendering_npis", "units"):
            assert site.cell("#trend-1", year["period"], column) == count(year[column]), (code, year["period"], column)
    quarters = site.rows("select * from code_overview where code = ? and period_type = 'quarter'", code)
    shown = {}
    for quarter in quarters:
        period, lines = quarter["period"], quarter["claim_lines"]
        text = site.cell("#trend-detail-1", period, "claim_lines")
        if quarter["claim_lines_suppressed"]:
            assert text.startswith("hidden"), (code, period, text)
            assert page.locator(f'svg [id="trend-{code}-hidden-{period}"]').count() == 1, (code, period)
        else:
            assert text == count(lines), (code, period)
            box = page.locator(f'svg [id="trend-{code}-{period}"]').bounding_box()
            shown[period] = (lines, box["height"])
    assert shown, f"{code}: no quarter with a visible count in the e2e data"
    scale = {round(height / lines, 3) for lines, height in shown.values() if lines}
    assert max(scale) - min(scale) < 0.01 * max(scale), f"{code}: bar heights are not proportional to the counts"
    for payer in site.rows("select * from code_by_payer where code = ? and period_type = 'year' and "
                           "not claim_lines_suppressed", code):
        share = "share hidden" if payer["share_of_claim_lines_pct_suppressed"] else \
            pct(payer["share_of_claim_lines_pct"])
        assert site.cell("#payers-1", payer["payer"], payer["period"]) == f"{count(payer['claim_lines'])} ({share})"
    for place in site.rows("select * from code_by_place_of_service where code = ? and period_type = 'year' and "
                           "not claim_lines_suppressed", code):
        text = site.cell("#places-1", place["place_of_service_code"], place["period"])
        assert text.startswith(count(place["claim_lines"]) + " ("), (code, place["place_of_service_code"])


def check_measure_page(site: Site, measure_id: str) -> None:
    page = site.page
    performance = site.rows("select * from measure_performance where measure_id = ? and entity_level = 'all'",
                            measure_id)
    assert performance
    for row in performance:
        key = f'{row["performance_year"]}|{row["stratum"]}'
        for column in ("cases", "pending", "excluded", "eligible_population", "met", "not_met", "not_measured"):
            assert site.cell("#performance-1", key, column) == count(row[column]), (key, column)
        rate = row["performance_rate_pct"]
        expected = "hidden" if row["performance_rate_pct_suppressed"] else "–" if rate is None else pct(rate)
        assert site.cell("#performance-1", key, "performance_rate_pct") == expected, key
    tins = site.rows("select performance_year, count(*) as tins, count_if(performance_rate_pct_suppressed) as hidden "
                     "from measure_performance where measure_id = ? and entity_level = 'tin' and stratum = 'all' "
                     "group by all", measure_id)
    for row in tins:
        assert site.cell("#tins-1", str(row["performance_year"]), "tins") == count(row["tins"])
        assert site.cell("#tins-1", str(row["performance_year"]), "rate_hidden") == count(row["hidden"])
    positions = site.rows("select performance_year, any_value(benchmark) as benchmark, "
                          "count_if(position_status = 'positioned') as positioned from measure_benchmark_position "
                          "where measure_id = ? and entity_level = 'tin' group by all", measure_id)
    assert positions
    for row in positions:
        assert site.cell("#benchmark-1", str(row["performance_year"]), "benchmark") == row["benchmark"]
        assert site.cell("#benchmark-1", str(row["performance_year"]), "positioned") == count(row["positioned"])
    if all(row["benchmark"].startswith("no CMS benchmark") for row in positions):
        assert page.get_by_text(f"CMS publishes no benchmark for measure {measure_id}").count() == 1
    follow_up = site.rows("select * from follow_up_worklist_counts where measure_id = ? and entity_level = 'all'",
                          measure_id)[0]
    assert site.cell("#follow-up-1", "all", "open_missing_score_pct") == pct(follow_up["open_missing_score_pct"])
    if not follow_up["open_missing_score_pct_suppressed"]:
        assert f"{pct(follow_up['open_missing_score_pct'])} of the {count(follow_up['open_cases'])} cases" in \
            page.locator("#follow-up").inner_text()


def test_site_index_filters_and_pages_match_the_published_tables(pipeline_run):
    from playwright.sync_api import sync_playwright

    settings = pipeline_run.settings
    assert pipeline_run.exit_code == 0
    root = Path(os.path.realpath(settings.data_dir / "current"))  # resolve the pointer once: one version
    site_dir = root / "published" / "site"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
        as_of = resolve_as_of_date(warehouse, settings)
    db = duckdb.connect(str(root / "published.duckdb"), read_only=True)
    ARTIFACTS.mkdir(exist_ok=True)
    problems, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file://", "data:")) else None)
        site = Site(page, site_dir, db)

        page.goto((site_dir / "index.html").as_uri())
        check_index(site, root.name, as_of)
        page.screenshot(path=str(ARTIFACTS / "site_index.png"), full_page=True)

        for code in ("G2137", "G8659"):
            page.fill("#filter-text", code)
            page.locator(f'#codes-table tr[data-key="{code}"] a').click()
            page.wait_for_url(f"**/codes/{code}.html")
            check_code_page(site, code)
            page.screenshot(path=str(ARTIFACTS / f"site_{code}.png"), full_page=True)
            page.get_by_role("link", name="← Back to the index").click()
            page.wait_for_url("**/index.html")

        page.locator('#measures-table tr[data-key="459"] a').click()
        page.wait_for_url("**/measures/459.html")
        check_measure_page(site, "459")
        page.screenshot(path=str(ARTIFACTS / "site_measure_459.png"), full_page=True)
        page.locator("nav.crumbs a", has_text="Index").click()
        page.wait_for_url("**/index.html")

        page.get_by_role("link", name="model documentation").first.click()
        page.wait_for_url("**/dbt-docs.html**")
        page.goto(f"{(site_dir / 'dbt-docs.html').as_uri()}#!/model/model.spine_outcomes.measure_cases")
        page.get_by_text("warehouse.marts.measure_cases").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "site_dbt_docs.png"))
        browser.close()
    db.close()
    assert problems == [], problems[:5]
    assert outside == [], "the site asked for something outside the publication"
