"""The bad-input matrix (tests/bad_input_matrix.py): every kind meets its expected outcome, and for every file
read, rows read = rows loaded + rows quarantined."""

from bad_input_matrix import render, run_matrix


def test_every_bad_input_kind_has_its_outcome(tmp_path):
    outcomes = run_matrix(tmp_path)
    assert len(outcomes) >= 40
    assert all(o.as_expected for o in outcomes), "\n" + render(outcomes)
