"""The publication site: static HTML that works offline (from file://), rendered from the published tables.

Written into the publication's version directory, so it switches with the tables (docs/publication_site.md):

    published/site/index.html            measures, the filterable list of quality-data codes, downloads
    published/site/codes/<code>.html     one page per code that occurs (on a claim line, or assigned to a case)
    published/site/measures/<id>.html    one page per measure of the registry
    published/site/downloads/<t>.csv     every published table (suppressed cells blank, their flags set)
    published/site/dbt-docs.html         the dbt project's documentation, one self-contained file
    published/site/assets/               the style sheet and the index's filter script

render_site renders everything; render_index, render_code_page and render_measure_page each write one page from
SiteData. Given the previous publication's site, render_site re-renders only the code and measure pages whose
inputs changed (a digest of the rows each page reads, kept in PAGE_DIGESTS): an unchanged page is the previous
one with the new version and as-of date in its header (the charts are not drawn again), and the CSV downloads of
unchanged tables are hard links to the previous ones.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.publish.site import dbt_docs
from orchestration.publish.site.data import Meta, SiteData
from orchestration.publish.site.pages import (
    code_href,
    measure_href,
    render_code_page,
    render_index,
    render_measure_page,
)

__all__ = ["Meta", "SiteData", "SiteResult", "render_code_page", "render_index", "render_measure_page",
           "render_site", "write_downloads"]

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
DBT_DOCS_FILE = "dbt-docs.html"
# page -> digest of its inputs (published, suppressed rows: it reveals nothing the pages do not show), beside the
# site folder
PAGE_DIGESTS = "site_pages.json"
HEADER = re.compile(r'(<strong data-meta="as-of">)[^<]*(</strong>)(\s*· data version <code data-meta="version">)[^<]*'
                    r"(</code>)")


@dataclass(frozen=True)
class SiteResult:
    index: Path
    pages: int  # HTML pages: the index, code pages and measure pages
    downloads: int
    dbt_docs_problem: str | None  # why the dbt documentation is missing, or None


def write_downloads(con: duckdb.DuckDBPyConnection, catalog: str, tables: list[str], out_dir: Path,
                    previous: Path | None = None, unchanged: frozenset[str] = frozenset()) -> int:
    """A CSV per table; an `unchanged` table's is a hard link to the one in `previous` (the previous downloads)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in tables:
        before = previous / f"{table}.csv" if previous else None
        if table in unchanged and before is not None and before.is_file():
            os.link(before, out_dir / f"{table}.csv")
            continue
        target = str(out_dir / f"{table}.csv").replace("'", "''")
        con.execute(f"copy (select * from {catalog}.{table}) to '{target}' (header, delimiter ',')")
    return len(tables)


def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".css", ".js"):
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _digest(code: str, inputs: tuple) -> str:
    return hashlib.sha256((code + repr(inputs)).encode()).hexdigest()


def _restamp(previous: Path, target: Path, meta: Meta) -> None:
    """The previous page with this version's header: the same template renders exactly these two values."""
    as_of = html.escape(meta.as_of_date or "not recorded")
    text, n = HEADER.subn(lambda m: f"{m[1]}{as_of}{m[2]}{m[3]}{html.escape(meta.version)}{m[4]}",
                          previous.read_text(), count=1)
    if n != 1:
        raise RuntimeError(f"{previous}: no page header to restamp")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def _docs_missing_page(out_dir: Path, problem: str) -> None:
    """In place of the dbt docs: a page that says why they are missing (the index links it either way)."""
    (out_dir / DBT_DOCS_FILE).write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Model documentation</title>'
        '<link rel="stylesheet" href="assets/site.css"></head><body><main><h1>Model documentation</h1>'
        f"<p>The dbt documentation could not be generated for this version: {html.escape(problem)}</p>"
        '<p><a href="index.html">Back to the index</a></p></main></body></html>\n')


def render_site(con: duckdb.DuckDBPyConnection, catalog: str, out_dir: Path, meta: Meta,
                progress: Callable[[str], None] = lambda line: None, previous: Path | None = None,
                unchanged_tables: set[str] = frozenset()) -> SiteResult:
    """`con`: the warehouse (read-only) with the publication attached as `catalog`; writes `out_dir`. `previous`:
    the previous publication's site folder, whose unchanged pages and downloads are reused."""
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = dbt_docs.start(con)  # a child process when not cached: it runs while the pages render
    try:
        data = SiteData.load(con, catalog, meta)
        shutil.copytree(STATIC_DIR, out_dir / "assets", dirs_exist_ok=True)
        downloads = write_downloads(con, catalog, [name for name, _ in data.tables], out_dir / "downloads",
                                    previous and previous / "downloads", frozenset(unchanged_tables))
        before_file = previous.parent / PAGE_DIGESTS if previous else None
        before = json.loads(before_file.read_text()) if before_file and before_file.is_file() else {}
        code = _code_digest()
        digests: dict[str, str] = {}
        rendered = 0

        def page(relative: str, inputs: tuple, render: Callable[[], Path]) -> Path:
            nonlocal rendered
            digests[relative] = _digest(code, inputs)
            if before.get(relative) == digests[relative] and (previous / relative).is_file():
                _restamp(previous / relative, out_dir / relative, meta)
                return out_dir / relative
            rendered += 1
            return render()

        codes = [page(code_href(c), data.code_page_inputs(c), lambda c=c: render_code_page(data, c, out_dir))
                 for c in data.page_codes()]
        measures = [page(measure_href(m), data.measure_page_inputs(m),
                         lambda m=m: render_measure_page(data, m, out_dir)) for m in data.measure_ids()]
        index = render_index(data, out_dir)
        (out_dir.parent / PAGE_DIGESTS).write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        progress(f"site: {len(codes)} code pages and {len(measures)} measure pages ({rendered} rendered, "
                 f"{len(codes) + len(measures) - rendered} unchanged: header restamped) and the index, "
                 f"{downloads} tables written as CSV ({len(set(unchanged_tables))} unchanged: hard-linked)")
        problem = docs.finish(out_dir / DBT_DOCS_FILE)
        progress("site: dbt docs " + ("copied from the cache" if docs.process is None else "generated"))
    except BaseException:
        docs.cancel()
        raise
    if problem:
        _docs_missing_page(out_dir, problem)
        progress(f"site: dbt docs not generated: {problem}")
    return SiteResult(index, 1 + len(codes) + len(measures), downloads, problem)
