"""Small-cell suppression with complementary suppression, done in DuckDB.

Primary: a count from `min_count` to `max_count` (CMS: 1..10) is hidden. Complementary: a hidden cell must not be
recoverable by subtraction, so wherever exactly one cell of an additive set is hidden, the next smallest
non-zero cell of that set is hidden too. Additive sets are
  - groups: rows whose values of a column sum to a published total (payers of a code-quarter, the quarters of a
    year, the TINs of a measure-year ...), and
  - row sets: columns of one row where one is the sum of the others (eligible = met + not met + not measured).
Hiding one cell can leave another set with a single hidden cell, so the passes repeat until nothing changes.
Derived figures (rates, shares, amounts, dates of a small cell) are hidden when any of their sources is.

The unsuppressed values are read from the warehouse (the dbt reporting models) into the caller's scratch catalog,
suppressed there and written to the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

MAX_PASSES = 50


@dataclass(frozen=True)
class Group:
    """Rows matching `where`, partitioned by `partition`: each partition sums to a published total."""

    partition: tuple[str, ...]
    where: str = "true"


@dataclass(frozen=True)
class TableSpec:
    name: str
    counts: tuple[str, ...]
    groups: tuple[Group, ...] = ()
    row_sets: tuple[tuple[str, ...], ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Columns that split the table into independent suppression units: every additive set (group partition or
    # row) lies inside one unit, so a unit's suppressed cells depend on its own rows only (units.py).
    # () = the whole table is one unit.
    unit: tuple[str, ...] = ()


def flag(column: str) -> str:
    return f"{column}_suppressed"


def _group_pass(con: duckdb.DuckDBPyConnection, table: str, group: Group, column: str) -> int:
    partition = ", ".join(group.partition) or "1"
    sql = f"""
        update {table} set {flag(column)} = true
        where _rid in (
            select _rid from (
                select _rid, {flag(column)} as hidden, {column} as value,
                       count_if({flag(column)}) over (partition by {partition}) as n_hidden,
                       row_number() over (
                           partition by {partition}
                           order by ({flag(column)} or coalesce({column}, 0) = 0), {column}, _rid
                       ) as candidate_rank
                from {table}
                where {group.where}
            )
            where n_hidden = 1 and candidate_rank = 1 and not hidden and coalesce(value, 0) > 0
        )
    """
    return con.execute(sql).fetchone()[0]


def _row_set_pass(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> int:
    def open_cell(c: str) -> str:
        return f"(not {flag(c)} and coalesce({c}, 0) > 0)"

    n_hidden = " + ".join(f"{flag(c)}::int" for c in columns)
    smallest = "least(" + ", ".join(f"case when {open_cell(c)} then {c} end" for c in columns) + ")"
    assignments = []
    for i, c in enumerate(columns):
        earlier = [f"({open_cell(e)} and {e} = {smallest})" for e in columns[:i]]
        not_earlier = f" and not ({' or '.join(earlier)})" if earlier else ""
        assignments.append(f"{flag(c)} = {flag(c)} or ({open_cell(c)} and {c} = {smallest}{not_earlier})")
    sql = f"update {table} set {', '.join(assignments)} where ({n_hidden}) = 1 and {smallest} is not null"
    return con.execute(sql).fetchone()[0]


def suppress(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    spec: TableSpec,
    min_count: int,
    max_count: int,
    scratch: str,
) -> None:
    """Write `target` = `source` with suppressed cells nulled and a `<col>_suppressed` flag per count/derived column;
    the exact values are worked on in catalog `scratch` (the source may be read-only)."""
    work = f"{scratch}.{spec.name}__suppression"
    primary = ", ".join(
        f"coalesce({c} between {int(min_count)} and {int(max_count)}, false) as {flag(c)}" for c in spec.counts
    )
    source_columns = [r[0] for r in con.execute(f"describe {source}").fetchall()]
    # _rid breaks ties between equal candidate cells, so it must not depend on the order the source rows happen
    # to be stored in (parallel aggregation makes that vary from run to run): a publication would then hide a
    # different cell each run, and two published versions side by side would reveal both cells.
    con.execute(
        f"create or replace table {work} as select *, {primary}, "
        f"row_number() over (order by {', '.join(source_columns)}) as _rid from {source}"
    )
    for _ in range(MAX_PASSES):
        changed = 0
        for group in spec.groups:
            for column in spec.counts:
                changed += _group_pass(con, work, group, column)
        for columns in spec.row_sets:
            changed += _row_set_pass(con, work, columns)
        if changed == 0:
            break
    else:
        raise RuntimeError(f"complementary suppression of {spec.name} did not converge in {MAX_PASSES} passes")

    derived_flags = {
        d: " or ".join(flag(s) for s in sources) for d, sources in spec.derived.items()
    }
    select = []
    for c in source_columns:
        if c in spec.counts:
            select.append(f"case when {flag(c)} then null else {c} end as {c}")
        elif c in derived_flags:
            select.append(f"case when {derived_flags[c]} then null else {c} end as {c}")
        else:
            select.append(c)
    select += [flag(c) for c in spec.counts]
    select += [f"({expr}) as {flag(d)}" for d, expr in derived_flags.items()]
    con.execute(f"create or replace table {target} as select {', '.join(select)} from {work} order by _rid")
    con.execute(f"drop table {work}")
