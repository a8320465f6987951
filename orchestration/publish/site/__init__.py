"""The publication site: static HTML that works offline (from file://), rendered from the published tables.

Written into the publication's version directory, so it switches with the tables (docs/publication_site.md):

    published/site/index.html            measures, the filterable list of quality-data codes, downloads
    published/site/codes/<code>.html     one page per code that occurs (on a claim line, or assigned to a case)
    published/site/measures/<id>.html    one page per measure of the registry
    published/site/downloads/<t>.csv     every published table (suppressed cells blank, their flags set)
    published/site/dbt-docs.html         the dbt project's documentation, one self-contained file
    published/site/assets/               the style sheet and the index's filter script

render_site renders everything; render_index, render_code_page and render_measure_page each write one page from
SiteData, for a caller that re-renders only the pages a change touched.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.publish.site import dbt_docs
from orchestration.publish.site.data import Meta, SiteData
from orchestration.publish.site.pages import render_code_page, render_index, render_measure_page

__all__ = ["Meta", "SiteData", "SiteResult", "render_code_page", "render_index", "render_measure_page",
           "render_site", "write_downloads"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
DBT_DOCS_FILE = "dbt-docs.html"


@dataclass(frozen=True)
class SiteResult:
    index: Path
    pages: int  # HTML pages: the index, code pages and measure pages
    downloads: int
    dbt_docs_problem: str | None  # why the dbt documentation is missing, or None


def write_downloads(con: duckdb.DuckDBPyConnection, catalog: str, tables: list[str], out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in tables:
        target = str(out_dir / f"{table}.csv").replace("'", "''")
        con.execute(f"copy (select * from {catalog}.{table}) to '{target}' (header, delimiter ',')")
    return len(tables)


def _docs_missing_page(out_dir: Path, problem: str) -> None:
    """In place of the dbt docs: a page that says why they are missing (the index links it either way)."""
    (out_dir / DBT_DOCS_FILE).write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Model documentation</title>'
        '<link rel="stylesheet" href="assets/site.css"></head><body><main><h1>Model documentation</h1>'
        f"<p>The dbt documentation could not be generated for this version: {html.escape(problem)}</p>"
        '<p><a href="index.html">Back to the index</a></p></main></body></html>\n')


def render_site(con: duckdb.DuckDBPyConnection, catalog: str, out_dir: Path, meta: Meta,
                progress: Callable[[str], None] = lambda line: None) -> SiteResult:
    """`con`: the warehouse (read-only) with the publication attached as `catalog`; writes `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = dbt_docs.start(con)  # a child process when not cached: it runs while the pages render
    try:
        data = SiteData.load(con, catalog, meta)
        shutil.copytree(STATIC_DIR, out_dir / "assets", dirs_exist_ok=True)
        downloads = write_downloads(con, catalog, [name for name, _ in data.tables], out_dir / "downloads")
        codes = [render_code_page(data, code, out_dir) for code in data.page_codes()]
        measures = [render_measure_page(data, measure_id, out_dir) for measure_id in data.measure_ids()]
        index = render_index(data, out_dir)
        progress(f"site: {len(codes)} code pages, {len(measures)} measure pages and the index rendered, "
                 f"{downloads} tables written as CSV")
        problem = docs.finish(out_dir / DBT_DOCS_FILE)
        progress("site: dbt docs " + ("copied from the cache" if docs.process is None else "generated"))
    except BaseException:
        docs.cancel()
        raise
    if problem:
        _docs_missing_page(out_dir, problem)
        progress(f"site: dbt docs not generated: {problem}")
    return SiteResult(index, 1 + len(codes) + len(measures), downloads, problem)
