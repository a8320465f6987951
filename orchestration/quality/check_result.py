"""Turn a suite outcome into a Dagster AssetCheckResult: counts, percentages and scrubbed examples only.

The expectations are one MetadataValue.table (a row per rule: result, severity, unexpected count and share,
examples, where); the Data Docs page of the run is linked through the local Data Docs server
(orchestration/quality/data_docs_server.py, started by `spine-pipeline ui`) and given as a path.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from orchestration.quality.data_docs_server import docs_url
from orchestration.quality.validate import SuiteOutcome

_SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}
EXPECTATION_COLUMNS = dg.TableSchema(columns=[
    dg.TableColumn("result", "string", description="passed, FAILED, or ERROR with the reason"),
    dg.TableColumn("severity", "string"),
    dg.TableColumn("rule", "string"),
    dg.TableColumn("expectation", "string", description="GX expectation type and its columns"),
    dg.TableColumn("unexpected", "int"),
    dg.TableColumn("unexpected_pct", "float"),
    dg.TableColumn("examples", "string", description="scrubbed: never an identifier's value"),
    dg.TableColumn("where", "string", description="table.column of a published-table failure"),
])


def expectations_table(outcome: SuiteOutcome) -> dg.TableMetadataValue:
    records = [
        dg.TableRecord({
            "result": "passed" if e.success else ("ERROR " + e.error if e.error else "FAILED"),
            "severity": e.severity,
            "rule": e.rule,
            "expectation": f"{e.type}({', '.join(e.columns)})",
            "unexpected": e.unexpected_count,
            "unexpected_pct": None if e.unexpected_percent is None else round(e.unexpected_percent, 2),
            "examples": json.dumps(e.examples, default=str) if e.examples else None,
            "where": ", ".join(outcome.locations.get(e.rule, [])) or None,
        })
        for e in outcome.expectations
    ]
    return dg.MetadataValue.table(records=records, schema=EXPECTATION_COLUMNS)


def to_check_result(outcome: SuiteOutcome, scope: str, docs_page: Path | None = None,
                    docs_dir: Path | None = None, docs_port: int | None = None) -> dg.AssetCheckResult:
    metadata: dict[str, dg.MetadataValue] = {
        "suite": dg.MetadataValue.text(f"expectations/{outcome.suite}.json"),
        "scope": dg.MetadataValue.text(scope),
        "rows_validated": dg.MetadataValue.int(outcome.row_count),
        "failed_errors": dg.MetadataValue.int(len(outcome.failed("error"))),
        "failed_warnings": dg.MetadataValue.int(len(outcome.failed("warn"))),
        "expectations": expectations_table(outcome),
    }
    if docs_page is not None:
        if docs_dir is not None and docs_port is not None:
            metadata["data_docs"] = dg.MetadataValue.url(docs_url(docs_port, docs_dir, docs_page))
        metadata["data_docs_path"] = dg.MetadataValue.path(str(docs_page))
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=_SEVERITY[outcome.severity or "error"],
        metadata=metadata,
        description=None if outcome.success else "; ".join(e.rule for e in outcome.expectations if not e.success),
    )
