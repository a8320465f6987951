"""Small-cell suppression on crafted counts: primary, complementary (group and row), derived, cascading."""

import duckdb
import pytest

from orchestration.publish.suppression import Group, TableSpec, suppress


def _run(rows: str, columns: str, spec: TableSpec) -> dict:
    con = duckdb.connect()
    con.execute(f"create table t as select * from (values {rows}) as v({columns})")
    suppress(con, "t", "out", spec, 1, 10, scratch="main")
    names = [r[0] for r in con.execute("describe out").fetchall()]
    return {row[0]: dict(zip(names, row)) for row in con.execute("select * from out order by 1").fetchall()}


def test_primary_suppression_hides_1_to_10_and_keeps_zero_and_11():
    out = _run("('a', 0), ('b', 1), ('c', 10), ('d', 11)", "k, n", TableSpec("t", counts=("n",)))
    assert [out[k]["n"] for k in "abcd"] == [0, None, None, 11]
    assert [out[k]["n_suppressed"] for k in "abcd"] == [False, True, True, False]


def test_single_hidden_cell_in_a_group_forces_the_next_smallest_nonzero():
    spec = TableSpec("t", counts=("n",), groups=(Group(("g",)),))
    out = _run("('a', 'x', 5), ('b', 'x', 0), ('c', 'x', 30), ('d', 'x', 20), ('e', 'y', 40)", "k, g, n", spec)
    # total of group x = 55 is published elsewhere: hiding only 'a' would let 55 - 30 - 20 - 0 = 5 be recovered
    assert out["a"]["n"] is None and out["d"]["n"] is None
    assert out["b"]["n"] == 0 and out["c"]["n"] == 30 and out["e"]["n"] == 40


def test_two_small_cells_need_no_complement():
    spec = TableSpec("t", counts=("n",), groups=(Group(("g",)),))
    out = _run("('a', 'x', 5), ('b', 'x', 7), ('c', 'x', 30)", "k, g, n", spec)
    assert out["a"]["n"] is None and out["b"]["n"] is None and out["c"]["n"] == 30


def test_row_set_and_derived_percentage():
    spec = TableSpec(
        "t",
        counts=("eligible", "met", "not_met"),
        row_sets=(("eligible", "met", "not_met"),),
        derived={"rate": ("met", "eligible")},
    )
    out = _run("('a', 25, 5, 20, 20.0), ('b', 40, 15, 25, 37.5)", "k, eligible, met, not_met, rate", spec)
    assert out["a"]["met"] is None and out["a"]["not_met"] is None and out["a"]["eligible"] == 25
    assert out["a"]["rate"] is None and out["a"]["rate_suppressed"] is True
    assert out["b"]["met"] == 15 and out["b"]["rate"] == pytest.approx(37.5)


def test_complement_cascades_across_groups_until_stable():
    # Hiding r1/Q1 (5) forces r2/Q1 (12) in the column group; r2 then has one hidden quarter, which forces r2/Q2.
    spec = TableSpec("t", counts=("n",), groups=(Group(("q",)), Group(("r",))))
    out = _run(
        "('r1q1', 'r1', 'q1', 5), ('r2q1', 'r2', 'q1', 12), ('r1q2', 'r1', 'q2', 50), ('r2q2', 'r2', 'q2', 13),"
        " ('r3q1', 'r3', 'q1', 60), ('r3q2', 'r3', 'q2', 70)",
        "k, r, q, n",
        spec,
    )
    hidden = {k for k, row in out.items() if row["n_suppressed"]}
    for group in ({"r1q1", "r2q1", "r3q1"}, {"r1q2", "r2q2", "r3q2"}, {"r1q1", "r1q2"}, {"r2q1", "r2q2"},
                  {"r3q1", "r3q2"}):
        assert len(group & hidden) != 1, (group, hidden)
    assert "r1q1" in hidden


def test_tied_complement_does_not_depend_on_row_order():
    """Two equal candidates: the same one is hidden whichever order the source rows are stored in (otherwise two
    publications of the same data would hide different cells and, side by side, reveal both)."""
    spec = TableSpec("t", counts=("n",), groups=(Group(("g",)),))
    rows = ["('a', 'x', 5)", "('b', 'x', 20)", "('c', 'x', 20)", "('d', 'x', 40)"]
    hidden = set()
    for ordered in (rows, rows[::-1], [rows[2], rows[0], rows[3], rows[1]]):
        out = _run(", ".join(ordered), "k, g, n", spec)
        hidden.add(frozenset(k for k, row in out.items() if row["n_suppressed"]))
    assert hidden == {frozenset({"a", "b"})}
