"""Run one suite on one DataFrame with an ephemeral GX 1.x context and summarize it without identifiers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# Values of these columns never leave the warehouse: not in check metadata, history or Data Docs.
IDENTIFIER_COLUMNS = frozenset(
    {"person_id", "patient_id", "member_id", "case_id", "episode_id", "claim_id", "birth_date"}
)
EXAMPLES_SHOWN = 5
_EXAMPLE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list")


@dataclass
class ExpectationSummary:
    type: str
    rule: str
    severity: str
    columns: list[str]
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    examples: list[Any]
    error: str | None = None


@dataclass
class SuiteOutcome:
    suite: str
    row_count: int
    expectations: list[ExpectationSummary]
    gx_result: Any = field(repr=False, default=None)
    # Where the failures are when rows stand for cells (published tables): rule -> ["table.column", ...].
    locations: dict[str, list[str]] = field(default_factory=dict)

    def failed(self, severity: str) -> list[ExpectationSummary]:
        return [e for e in self.expectations if not e.success and e.severity == severity]

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def severity(self) -> str | None:
        """error when any error-severity expectation failed, warn when only warnings failed, None on success."""
        if self.failed("error"):
            return "error"
        return "warn" if self.failed("warn") else None


def _columns(kwargs: dict) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return cols + list(kwargs.get("column_list") or [])


def _plain(value: Any) -> Any:
    """JSON-friendly example values: dates as ISO text, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    if isinstance(value, float) and value != value:
        return None
    return value


def _scrub(value: Any, columns: list[str]) -> Any:
    """Drop identifier parts of an example (compound keys show their other columns only)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in IDENTIFIER_COLUMNS}
    if isinstance(value, (list, tuple)) and len(value) == len(columns) and len(columns) > 1:
        return [v for v, c in zip(value, columns) if c not in IDENTIFIER_COLUMNS]
    return value


def scrub_result(result: dict, columns: list[str]) -> None:
    """Remove identifier values from a GX result in place, before it is rendered or summarized."""
    if not IDENTIFIER_COLUMNS.intersection(columns):
        return
    only_identifiers = all(c in IDENTIFIER_COLUMNS for c in columns)
    for key in _EXAMPLE_KEYS:
        if key not in result:
            continue
        if only_identifiers:
            result[key] = []
        elif key == "partial_unexpected_counts":
            result[key] = [{**c, "value": _scrub(c.get("value"), columns)} for c in result[key]]
        else:
            result[key] = [_scrub(v, columns) for v in result[key]]


def _examples(result: dict) -> list[Any]:
    counts = result.get("partial_unexpected_counts")
    if counts:
        return [{"value": _plain(c["value"]), "count": int(c["count"])} for c in counts[:EXAMPLES_SHOWN]]
    return [_plain(v) for v in (result.get("partial_unexpected_list") or [])[:EXAMPLES_SHOWN]]


def _quiet_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def run_suite(df: pd.DataFrame, suite: dict, parameters: dict | None = None) -> SuiteOutcome:
    """Validate df against the suite dict (as loaded from expectations/) with run-time suite parameters."""
    import great_expectations as gx

    context = _quiet_context()
    name = suite["name"]
    batch = (
        context.data_sources.add_pandas(f"{name}_frames")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole_frame")
    )
    gx_suite = context.suites.add(
        gx.ExpectationSuite(name=name, expectations=suite["expectations"], meta=suite.get("meta") or {})
    )
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=gx_suite))
    result = definition.run(
        batch_parameters={"dataframe": df},
        expectation_parameters=parameters or {},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20},
    )
    summaries = []
    for r in result.results:
        config = r.expectation_config
        columns = _columns(config.kwargs)
        scrub_result(r.result, columns)
        raised = (r.exception_info or {}).get("raised_exception")
        summaries.append(
            ExpectationSummary(
                type=config.type,
                rule=config.meta["rule"],
                severity=config.meta["severity"],
                columns=columns,
                success=bool(r.success) and not raised,
                element_count=r.result.get("element_count"),
                unexpected_count=r.result.get("unexpected_count"),
                unexpected_percent=_plain(r.result.get("unexpected_percent")),
                examples=_examples(r.result),
                error=(r.exception_info or {}).get("exception_message") if raised else None,
            )
        )
    return SuiteOutcome(suite=name, row_count=len(df), expectations=summaries, gx_result=result)
