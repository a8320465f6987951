"""Publication by period: re-suppress only the suppression units whose exact rows changed.

A suppression unit is the part of a table that complementary suppression works on independently: every additive
set of the table's spec lies inside one unit (TableSpec.unit: a code and year of the code tables - its quarter rows,
its year row and their dimension cells -, a code of code_overview, whose year rows add up across years, a measure
and performance year of measure_performance ...). Suppressing a unit reads only that unit's rows (the tie-break
orders rows by their own values), so a unit whose exact rows did not change gets the same suppressed cells as in
the previous publication, and its published rows can be taken from there. Every other unit is suppressed again.

Which units changed is decided from the data, never guessed: the exact rows of each unit (the dbt reporting
models) are hashed and compared with the hashes the previous publication kept. Whatever changes a count - a new
or corrected claim line in any period, a line that moved quarter or was deleted, an enrollment change that
changes a payer type, an as-of date that lets more lines in - changes the hash of exactly the units it reaches.
Anything that can change suppression without changing an exact row - the publication parameters (thresholds),
the suppression code or specs, the exact tables' columns, the DuckDB version (the hash function) - is in the
inputs digest: when it differs, every unit is suppressed again (a full publication).

The hashes live in the version directory (STATE_FILE, beside the QPP files, never under published/): a hash of a
unit's exact rows could be checked against guessed small counts, so it is as private as the exact counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.publish.suppression import TableSpec

STATE_FILE = "suppression_units.duckdb"
STATE = "publish_units"
PREVIOUS_STATE = "publish_units_previous"
PREVIOUS = "publish_previous"
INPUTS = "_inputs"
CONTENTS = "_published_contents"
# The code whose change changes what a unit's suppression gives (hashed into the inputs digest).
CODE_FILES = ("suppression.py", "tables.py", "units.py", "benchmarks.py")
HASHED = "rows_hash"
RESUPPRESSED = "resuppressed"


@dataclass
class UnitReport:
    """Per table: (units re-suppressed, units in the table); why every unit was re-suppressed, if so."""

    units: dict[str, tuple[int, int]] = field(default_factory=dict)
    full_reason: str | None = None

    def summary(self) -> str:
        resuppressed = sum(n for n, _ in self.units.values())
        total = sum(t for _, t in self.units.values())
        why = f" (every unit: {self.full_reason})" if self.full_reason else ""
        return f"{resuppressed:,} of {total:,} suppression units suppressed again{why}"


def inputs_digest(con: duckdb.DuckDBPyConnection, exact_tables: dict[str, str], specs: dict[str, TableSpec],
                  parameters_table: str) -> str:
    """Everything besides the exact rows that decides a unit's suppressed cells."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(duckdb.__version__.encode())
    for name in CODE_FILES:
        digest.update((package / name).read_bytes())
    digest.update(repr(sorted((n, repr(s)) for n, s in specs.items())).encode())
    digest.update(json.dumps(sorted(map(list, con.execute(
        f"select parameter, value from {parameters_table}").fetchall()))).encode())
    for name, relation in sorted(exact_tables.items()):
        digest.update(json.dumps([name, [r[:2] for r in con.execute(f"describe {relation}").fetchall()]]).encode())
    return digest.hexdigest()


def _match(unit: tuple[str, ...], left: str, right: str) -> str:
    return " and ".join(f"{left}.{c} is not distinct from {right}.{c}" for c in unit) or "true"


class UnitState:
    """The unit hashes of the publication being built (catalog STATE, a file in its version directory) and of the
    previous one (PREVIOUS_STATE, with its published tables as PREVIOUS), when they can be reused."""

    def __init__(self, con: duckdb.DuckDBPyConnection, state_file: Path, digest: str,
                 previous_root: Path | None):
        self.con = con
        self.report = UnitReport()
        con.execute(f"attach '{state_file}' as {STATE} (read_only false)")
        con.execute(f"create table {STATE}.{INPUTS} (digest varchar)")
        con.execute(f"insert into {STATE}.{INPUTS} values (?)", [digest])
        self.reuse = False
        self.has_previous_state = False
        previous_file = previous_root / STATE_FILE if previous_root else None
        if previous_file is None or not previous_file.is_file():
            self.report.full_reason = "no previous publication with unit hashes"
            return
        con.execute(f"attach '{previous_file}' as {PREVIOUS_STATE} (read_only)")
        self.has_previous_state = True
        previous_digest = con.execute(f"select max(digest) from {PREVIOUS_STATE}.{INPUTS}").fetchone()[0]
        if previous_digest != digest:
            self.report.full_reason = "publication parameters, suppression code or exact table columns changed"
            return
        con.execute(f"attach '{previous_root / 'published.duckdb'}' as {PREVIOUS} (read_only)")
        self.reuse = True

    def _has_previous(self, name: str) -> bool:
        return self.reuse and all(self.con.execute(
            "select count(*) from duckdb_tables() where database_name = ? and table_name = ?",
            [catalog, name]).fetchone()[0] for catalog in (PREVIOUS_STATE, PREVIOUS))

    def split(self, source: str, spec: TableSpec, scratch: str) -> tuple[str, str | None]:
        """Hash the units of `source` (the exact rows) into the new state; returns (the exact rows of the units to
        suppress again, the previous publication's rows of the units kept - or None when nothing is kept)."""
        con, unit, name = self.con, spec.unit, spec.name
        keys = ", ".join(unit)
        con.execute(
            f"create table {STATE}.{name} as select {keys}{', ' if keys else ''}"
            f"hash(list_sort(list(hash(rows)))) as {HASHED}, false as {RESUPPRESSED} "
            f"from {source} as rows {'group by ' + keys if keys else ''}")
        kept = None
        if self._has_previous(name):
            con.execute(
                f"update {STATE}.{name} as now set {RESUPPRESSED} = true where not exists ("
                f"select 1 from {PREVIOUS_STATE}.{name} as before "
                f"where {_match(unit, 'before', 'now')} and before.{HASHED} = now.{HASHED})")
            unchanged = f"select {keys or '1'} from {STATE}.{name} where not {RESUPPRESSED}"
            kept = (f"(select * from {PREVIOUS}.{name} as rows where exists "
                    f"(select 1 from ({unchanged}) as unit where {_match(unit, 'unit', 'rows')}))")
        else:
            con.execute(f"update {STATE}.{name} set {RESUPPRESSED} = true")
        resuppressed, total = con.execute(
            f"select count(*) filter (where {RESUPPRESSED}), count(*) from {STATE}.{name}").fetchone()
        self.report.units[name] = (resuppressed, total)
        changed = f"select {keys or '1'} from {STATE}.{name} where {RESUPPRESSED}"
        exact = f"{scratch}.{name}__changed_units"
        con.execute(f"create or replace table {exact} as select * from {source} as rows where exists "
                    f"(select 1 from ({changed}) as unit where {_match(unit, 'unit', 'rows')})")
        return exact, kept

    def record_contents(self, catalog: str, tables: list[str]) -> None:
        """A hash of each published (suppressed) table's rows, kept to tell which tables the next one leaves as
        they are."""
        self.con.execute(f"create table {STATE}.{CONTENTS} (table_name varchar, {HASHED} ubigint)")
        for table in tables:
            self.con.execute(
                f"insert into {STATE}.{CONTENTS} select ?, hash(list_sort(list(hash(rows)))) "
                f"from {catalog}.{table} as rows", [table])

    def unchanged_tables(self) -> set[str]:
        """The published tables whose rows equal the previous publication's."""
        if not self.has_previous_state or not self.con.execute(
                "select count(*) from duckdb_tables() where database_name = ? and table_name = ?",
                [PREVIOUS_STATE, CONTENTS]).fetchone()[0]:
            return set()
        return {name for (name,) in self.con.execute(
            f"select now.table_name from {STATE}.{CONTENTS} as now join {PREVIOUS_STATE}.{CONTENTS} as before "
            f"on now.table_name = before.table_name and now.{HASHED} = before.{HASHED}").fetchall()}
