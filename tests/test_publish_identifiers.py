"""The publication refuses a column named like an identifier: the claim's key of session 10 (claim_key: data_source
with claim_id) is one, as claim_id is."""

from __future__ import annotations

import duckdb

from orchestration.publish.reference_data import Parameters
from orchestration.publish.validate import validate_publication

PARAMETERS = Parameters(suppression_min_count=1, suppression_max_count=10, benchmark_min_cases=20,
                        benchmark_percentiles=(10, 50), qpp_submission_method="claims")


def test_a_claim_key_column_is_refused_like_a_claim_id():
    """Defect: a published table with a claim_key column (data_source + claim_id) passed the identifier scan."""
    with duckdb.connect() as con:
        con.execute("attach ':memory:' as publication")
        con.execute("create table publication.lines (code varchar, claim_key varchar, claim_id varchar)")
        problems = validate_publication(con, "publication", PARAMETERS)
    assert problems == ["lines.claim_key: looks like a person identifier", "lines.claim_id: looks like a person identifier"]
