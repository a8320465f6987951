"""GX Data Docs: one static HTML page per suite run under $DATA_DIR/data_docs/<suite>/.

Rendered with GX's own validation-results renderer from the already scrubbed result (no identifiers).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from orchestration.quality.validate import SuiteOutcome


def write_data_docs(outcome: SuiteOutcome, docs_dir: Path, run_id: str) -> Path:
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(outcome.gx_result))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = docs_dir / outcome.suite / f"{stamp}_{run_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    (docs_dir / outcome.suite / "latest.html").write_text(page, encoding="utf-8")
    return target
