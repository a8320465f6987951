"""Every file of the live publication (database, parquet, CSV, JSON, HTML, Markdown, images) is scanned: no
research note from the code seed (CONFIRMED, UNCONFIRMED, "NOT 220") and no person identifier (person, member,
claim or case id of the run's own data) in any of them. Parquet and DuckDB files are read (they are compressed):
every text value and column name; every other file is scanned as bytes, images included (their text chunks)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.swap import current_version

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

FORBIDDEN = ("CONFIRMED", "UNCONFIRMED", "NOT 220")
TOKEN = re.compile(rb"[A-Za-z0-9]+")
READ_AS_TABLES = {".parquet", ".duckdb"}
SCANNED_AS_BYTES = {".html", ".md", ".json", ".csv", ".txt", ".css", ".js", ".svg", ".png"}


def _identifiers(warehouse: Path) -> set[bytes]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select person_id from raw.medical_claim union select member_id from raw.medical_claim
            union select claim_id from raw.medical_claim union select person_id from raw.eligibility
            union select member_id from raw.eligibility union select person_id from raw.observation
            union select case_id from marts.measure_cases
            """
        ).fetchall()
    return {v.encode() for (v,) in rows if v}


def _text_values(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Column names and every distinct text value of a relation."""
    described = con.execute(f"describe select * from {relation}").fetchall()
    values = [name for name, *_ in described]
    for name, kind, *_ in described:
        if kind == "VARCHAR":
            values += [v for (v,) in con.execute(f'select distinct "{name}" from {relation} where "{name}" is not null').fetchall()]
    return values


def _problems(label: str, data: bytes, identifiers: set[bytes]) -> list[str]:
    found = [f"{label}: contains {s!r}" for s in FORBIDDEN if s.encode() in data]
    leaked = identifiers.intersection(TOKEN.findall(data))
    if leaked:
        found.append(f"{label}: {len(leaked)} person identifier(s), e.g. {sorted(leaked)[0]!r}")
    return found


def test_no_research_note_and_no_person_identifier_in_any_published_file(pipeline_run):
    settings = pipeline_run.settings
    assert pipeline_run.exit_code == 0
    identifiers = _identifiers(settings.warehouse_path)
    assert len(identifiers) > 8_000, "the run's identifiers were read"
    root = current_version(settings.data_dir).root
    files = sorted(p for p in root.rglob("*") if p.is_file())
    unknown = sorted({p.suffix for p in files} - READ_AS_TABLES - SCANNED_AS_BYTES)
    assert not unknown, f"published files of a kind the scan does not read: {unknown}"
    kinds = {p.suffix for p in files}
    assert {".parquet", ".duckdb", ".json", ".html"} <= kinds, f"the publication has {sorted(kinds)}"

    problems: list[str] = []
    with duckdb.connect() as con:
        for path in files:
            label = str(path.relative_to(root))
            if path.suffix == ".parquet":
                values = _text_values(con, f"read_parquet('{path}')")
                problems += _problems(label, "\n".join(values).encode(), identifiers)
            elif path.suffix == ".duckdb":
                con.execute(f"attach '{path}' as scanned (read_only)")
                tables = [t for (t,) in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'scanned'").fetchall()]
                for table in tables:
                    values = _text_values(con, f"scanned.{table}")
                    problems += _problems(f"{label}:{table}", "\n".join(values).encode(), identifiers)
                con.execute("detach scanned")
            else:
                problems += _problems(label, path.read_bytes(), identifiers)
    assert not problems, "\n".join(problems)
