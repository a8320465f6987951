"""GX Data Docs: one static HTML page per suite run under $DATA_DIR/data_docs/<suite>/, styled offline.

Rendered with GX's own validation-results renderer from the already scrubbed result (no identifiers). GX's page
loads Bootstrap, Font Awesome, jQuery and bootstrap-table from CDNs; offline none of them arrive and the page is
unstyled. So every remote stylesheet and every script is left out, and the page links the vendored Bootstrap
4.3.1 CSS (MIT, orchestration/quality/static/) and a few rules of our own, copied once to data_docs/_static/.
The pages are plain files: `spine-pipeline ui` serves the folder (data_docs_server.py) so the Dagster UI can
link them.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from orchestration.quality.validate import SuiteOutcome

STATIC_DIR = Path(__file__).resolve().parent / "static"
STYLESHEETS = ("bootstrap-4.3.1.min.css", "data_docs_offline.css")
_REMOTE_LINK = re.compile(r"<link\b[^>]*href=\"https?://[^>]*>\s*", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b.*?</script>\s*", re.IGNORECASE | re.DOTALL)
_FAVICON = re.compile(r"<link\b[^>]*rel=\"shortcut icon\"[^>]*>\s*", re.IGNORECASE)


def offline_page(page: str, static_href: str) -> str:
    """The page without remote stylesheets or scripts, linking the local stylesheets under `static_href`."""
    page = _SCRIPT.sub("", _FAVICON.sub("", _REMOTE_LINK.sub("", page)))
    links = "".join(f'<link rel="stylesheet" href="{static_href}/{name}"/>\n' for name in STYLESHEETS)
    return page.replace("</head>", links + "</head>", 1)


def _install_static(docs_dir: Path) -> None:
    target = docs_dir / "_static"
    target.mkdir(parents=True, exist_ok=True)
    for name in STYLESHEETS:
        if not (target / name).exists() or (target / name).read_bytes() != (STATIC_DIR / name).read_bytes():
            shutil.copyfile(STATIC_DIR / name, target / name)


def write_data_docs(outcome: SuiteOutcome, docs_dir: Path, run_id: str) -> Path:
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    _install_static(docs_dir)
    page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(outcome.gx_result))
    page = offline_page(page, "../_static")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = docs_dir / outcome.suite / f"{stamp}_{run_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    (docs_dir / outcome.suite / "latest.html").write_text(page, encoding="utf-8")
    return target
