"""Data quality: Great Expectations suites (expectations/*.json) run on DataFrames read from DuckDB.

GX 1.x cannot validate DuckDB through SQLAlchemy, so each guarded table is read read-only into pandas
(helper columns computed by DuckDB first), validated with an ephemeral GX context, rendered as Data Docs
and appended to the results history.
"""

from orchestration.quality.published import validate_published
from orchestration.quality.validate import SuiteOutcome, run_suite

__all__ = ["SuiteOutcome", "run_suite", "validate_published"]
