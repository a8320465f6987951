"""The open risk model, fitted by the real pipeline on generated claims, recovers the generator's true
coefficients: the claims say what the features say, the SQL derives the same features, OLS finds the truth.

Tolerance: every coefficient within 4 of its standard errors of the true value (a fixed seed, so this is
deterministic; at this sample size a wrong feature derivation - an age band off by one year, acuity counted from
the wrong diagnosis, a payer type mapped wrongly - moves its term by many standard errors), and the intake-FS
slope, the term that carries most of the prediction, within 0.05 in absolute terms.
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.sample_data.truth import TRUE_FS_CHANGE_COEFFICIENTS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

MAX_STANDARD_ERRORS = 4.0
INTAKE_SLOPE_TOLERANCE = 0.05


def test_fit_recovers_the_generators_true_coefficients(pipeline_run):
    assert pipeline_run.exit_code == 0
    with duckdb.connect(str(pipeline_run.settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            """
            select term, coefficient, std_error, n
            from risk_model.coefficients
            where version = (select max(version) from risk_model.coefficients)
            """
        ).fetchall()
    fitted = {term: (coefficient, std_error) for term, coefficient, std_error, _ in rows}
    assert set(fitted) == set(TRUE_FS_CHANGE_COEFFICIENTS)
    assert rows[0][3] >= 300, "too few reference episodes for a meaningful recovery test"
    off = {
        term: round((fitted[term][0] - truth) / fitted[term][1], 2)
        for term, truth in TRUE_FS_CHANGE_COEFFICIENTS.items()
        if abs(fitted[term][0] - truth) > MAX_STANDARD_ERRORS * fitted[term][1]
    }
    assert not off, f"terms further than {MAX_STANDARD_ERRORS} standard errors from the truth: {off}"
    assert abs(fitted["intake_fs"][0] - TRUE_FS_CHANGE_COEFFICIENTS["intake_fs"]) < INTAKE_SLOPE_TOLERANCE
