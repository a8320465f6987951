"""Turn a suite outcome into a Dagster AssetCheckResult: counts, percentages and scrubbed examples only."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.quality.validate import SuiteOutcome

_SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def _markdown(outcome: SuiteOutcome) -> str:
    lines = ["| result | severity | rule | unexpected | % | examples |", "|---|---|---|---|---|---|"]
    for e in outcome.expectations:
        result = "passed" if e.success else ("ERROR " + e.error if e.error else "FAILED")
        pct = "" if e.unexpected_percent is None else f"{e.unexpected_percent:.2f}"
        examples = ", ".join(str(x) for x in e.examples).replace("|", "/")
        lines.append(
            f"| {result} | {e.severity} | {e.rule} | {e.unexpected_count if e.unexpected_count is not None else ''} "
            f"| {pct} | {examples} |"
        )
    return "\n".join(lines)


def to_check_result(outcome: SuiteOutcome, scope: str, docs_page: Path | None = None) -> dg.AssetCheckResult:
    metadata: dict[str, dg.MetadataValue] = {
        "suite": dg.MetadataValue.text(f"expectations/{outcome.suite}.json"),
        "scope": dg.MetadataValue.text(scope),
        "rows_validated": dg.MetadataValue.int(outcome.row_count),
        "failed_errors": dg.MetadataValue.int(len(outcome.failed("error"))),
        "failed_warnings": dg.MetadataValue.int(len(outcome.failed("warn"))),
        "expectations": dg.MetadataValue.md(_markdown(outcome)),
    }
    if docs_page is not None:
        metadata["data_docs"] = dg.MetadataValue.url(docs_page.resolve().as_uri())
        metadata["data_docs_path"] = dg.MetadataValue.path(str(docs_page))
    for i, e in enumerate(outcome.expectations, start=1):
        metadata[f"{i:02d}_{e.type}({','.join(e.columns)})"] = dg.MetadataValue.json(
            {
                "rule": e.rule,
                "severity": e.severity,
                "success": e.success,
                "unexpected_count": e.unexpected_count,
                "unexpected_percent": e.unexpected_percent,
                "examples": e.examples,
                **({"error": e.error} if e.error else {}),
                **({"where": outcome.locations[e.rule]} if e.rule in outcome.locations else {}),
            }
        )
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=_SEVERITY[outcome.severity or "error"],
        metadata=metadata,
        description=None if outcome.success else "; ".join(e.rule for e in outcome.expectations if not e.success),
    )
