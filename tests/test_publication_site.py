"""The publication site built from a hand-made warehouse: which pages exist, what every page carries, the CSV
downloads, no research note in any label, and one page re-rendered alone (the browser test is
test_publication_site_browser.py)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.publisher import publish
from orchestration.publish.site import Meta, SiteData, render_code_page, render_measure_page
from orchestration.publish.site.cells import hidden_range
from publish_support import build_warehouse

pytestmark = pytest.mark.xdist_group("publication_site")

AS_OF = "2024-12-31"
# The research notes of the quality-data code seed (CONFIRMED / UNCONFIRMED / "219 (NOT 220)" / "(inferred ...)"
# and the vendors they cite): maintainers' words, never a published label.
RESEARCH_NOTE = re.compile(r"\bconfirmed|unconfirmed|not 220|\(inferred|inferred from|vbca|healthmonix", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("site")
    warehouse = build_warehouse(data_dir / "warehouse.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = publish(con, data_dir, as_of_date=AS_OF)
    pub = duckdb.connect(str(result.db_path), read_only=True)
    yield result.dir_path / "site", result, pub, warehouse
    pub.close()


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "dbt-docs.html")


def test_a_page_per_code_that_occurs_and_every_code_on_the_index(site):
    root, result, pub, _ = site
    codes = pub.execute(
        "select code, (claim_lines_suppressed or claim_lines > 0 or cases_assigned_suppressed or cases_assigned > 0)"
        " from code_catalog where is_quality_data_code").fetchall()
    occurring = {code for code, occurs in codes if occurs}
    assert occurring and len(occurring) < len(codes), "the fixture has codes that occur and codes that never do"
    assert {p.stem for p in (root / "codes").glob("*.html")} == occurring
    index = (root / "index.html").read_text()
    for code, occurs in codes:
        row = re.search(rf'<tr data-key="{code}".*?</tr>', index, re.DOTALL)
        assert row, f"{code} is not listed on the index"
        assert (f'href="codes/{code}.html"' in row.group(0)) == occurs, code
    assert {p.stem for p in (root / "measures").glob("*.html")} == {"220", "459", "461", "471"}
    assert result.pages == len(_pages(root))


def test_every_page_shows_as_of_date_version_and_navigation(site):
    root, result, _, _ = site
    for page in _pages(root):
        html = page.read_text()
        assert f'<strong data-meta="as-of">{AS_OF}</strong>' in html, page
        assert f'<code data-meta="version">{result.version}</code>' in html, page
        assert '<nav class="crumbs"' in html, page
        if page.name != "index.html":
            assert 'href="../index.html">← Back to the index</a>' in html, page
        for link in re.findall(r'(?:href|src)="([^"#]+)', html):  # every link resolves inside the publication
            assert "://" not in link, (page, link)
            assert (page.parent / link).resolve().exists(), (page, link)


def test_csv_downloads_equal_the_published_tables_with_suppressed_cells_blank(site):
    root, result, pub, _ = site
    tables = [t for (t,) in pub.execute(
        "select table_name from duckdb_tables() where not starts_with(table_name, '_')").fetchall()]
    assert sorted(p.stem for p in (root / "downloads").glob("*.csv")) == sorted(tables)
    blank_hidden = 0
    for table in tables:
        path = root / "downloads" / f"{table}.csv"
        with duckdb.connect() as con:
            con.execute(f"attach '{result.db_path}' as pub (read_only)")
            con.execute(f"create table from_csv as select * from pub.{table} limit 0")
            con.execute(f"copy from_csv from '{path}' (header)")
            for a, b in (("from_csv", f"pub.{table}"), (f"pub.{table}", "from_csv")):
                assert con.execute(f"select count(*) from (select * from {a} except all select * from {b})"
                                   ).fetchone()[0] == 0, (table, a, b)
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            for column, flag in row.items():
                if column.endswith("_suppressed") and flag == "true":
                    assert row[column.removesuffix("_suppressed")] == "", (table, column)
                    blank_hidden += 1
    assert blank_hidden > 0, "the fixture has suppressed cells"


def test_no_research_note_in_any_published_label(site):
    root, _, pub, _ = site
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        found = RESEARCH_NOTE.findall(path.read_text())
        assert not found, f"{path.relative_to(root)}: {sorted(set(found))}"
    text_columns = pub.execute("select table_name, column_name from duckdb_columns() where data_type = 'VARCHAR'"
                               " and database_name = current_database() and not internal").fetchall()
    assert ("code_catalog", "role_note") in text_columns
    for table, column in text_columns:
        leaked = pub.execute(f'select distinct "{column}" from {table} where regexp_matches("{column}", ?)',
                             [f"(?i)({RESEARCH_NOTE.pattern})"]).fetchall()
        assert not leaked, f"{table}.{column}: {leaked}"


def test_one_page_re_renders_alone_to_the_same_bytes(site, tmp_path):
    root, result, _, warehouse = site
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{result.db_path}' as pub (read_only)")
        data = SiteData.load(con, "pub", Meta(result.version, AS_OF))
    written = [render_code_page(data, "G2137", tmp_path), render_measure_page(data, "459", tmp_path)]
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(written)
    for path in written:
        assert path.read_bytes() == (root / path.relative_to(tmp_path)).read_bytes(), path


@pytest.mark.parametrize("total, total_hidden, visible, hidden, expected", [
    (30, False, [15], 2, (1, 14)),  # 15 left for two hidden quarters: each 1 to 14
    (39, False, [15], 3, (1, 22)),
    (12, False, [], 1, (1, 12)),  # a hidden year total bounds nothing; a visible one bounds its one hidden member
    (30, True, [15], 2, None),
    (None, False, [15], 2, None),
])
def test_hidden_range_is_what_the_published_total_leaves(total, total_hidden, visible, hidden, expected):
    assert hidden_range(total, total_hidden, visible, hidden) == expected


def _performance_row(year: int, eligible: int | None, pending: int, rate: float | None) -> dict:
    return {"entity_level": "all", "stratum": "all", "performance_year": year, "eligible_population": eligible,
            "eligible_population_suppressed": eligible is None, "performance_rate_pct": rate,
            "performance_rate_pct_suppressed": rate is None, "pending": pending, "pending_suppressed": False}


def test_the_index_heads_each_measure_with_its_latest_year_with_results():
    from orchestration.publish.site.pages import _measures_table

    data = SiteData.__new__(SiteData)
    data.measures = {"459": "Back Pain After Lumbar Surgery", "471": "Functional Status After Lumbar Surgery",
                     "220": "Functional Status Change"}
    data.performance = {
        # 2026 and 2027: fusion cases still pending at the as-of date, none eligible yet
        "459": [_performance_row(2025, 614, 94, 42.12), _performance_row(2026, 0, 98, None),
                _performance_row(2027, 0, 18, None)],
        "471": [_performance_row(2024, None, 0, None), _performance_row(2025, 0, 0, None)],  # 2024: a hidden count
    }
    rows = {row.key: [c.text for c in row.cells] for row in _measures_table(data).rows}
    assert rows["459"][2:] == ["2025", "614", "42.12%", "94"]
    assert rows["471"][2] == "2024" and rows["471"][3] == "hidden"
    assert rows["220"][2:] == ["–", "–", "–", "–"]


def test_a_hidden_only_category_keeps_its_labels_such_as_a_modifiers_coding_error():
    from orchestration.publish.site.pages import _pivot

    def row(modifier, lines, reason):
        return {"year": 2025, "modifier": modifier, "claim_lines": None if lines is None else lines,
                "claim_lines_suppressed": lines is None, "share_of_claim_lines_pct": None,
                "share_of_claim_lines_pct_suppressed": lines is None, "invalid_reason": reason}

    table = _pivot([row("GP", 40, None), row("8P", None, "belongs only on Category II codes"), row("59", None, None)],
                   [("modifier", "Modifier")], "claim_lines", "share_of_claim_lines_pct", "No modifier.",
                   [("invalid_reason", "Invalid because")])
    assert [r.key for r in table.rows] == ["GP"]
    assert table.note == ("Also seen, with hidden counts only: 59, 8P (invalid because: belongs only on Category II "
                          "codes).")
