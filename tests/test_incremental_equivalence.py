"""An incremental month gives what a full rebuild gives, and its publication is built by period.

Run A: the pipeline on every month but the last, then again once the last month arrives, together with a late
correction of an older claims delivery of the previous year (lines removed, a code changed, a line now
quarantined, a line added), a late correction of a second-quarter delivery of the new month's year (a code no
other line has given to a few of its second-quarter lines: the code tables by quarter rebuild that quarter and
the year, and keep the year's other quarters) and an enrollment change that touches no claim line (a person
without claims in the new month whose span's payer type now reads Medicare Advantage). The second run loads only what changed, builds
the claim staging incrementally and publishes by period: it suppresses again only the units (a code's year, ...)
whose exact rows changed and takes the others from the first run's publication. Run B: the pipeline once, from
scratch, on the final landing folder, with the risk-model version run A fitted (the refresh applies a version; it
never refits). `measure_cases`, the claim staging and every published table must be equal (EXCEPT ALL both ways is
empty), and so must the QPP files and the pages (bytes; the pages' version stamp aside).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

import orchestration.definitions
from e2e_support import definitions_for
from orchestration.ingest.discovery import delivery_key
from orchestration.publish.swap import current_version
from orchestration.publish.tables import SPECS
from orchestration.publish.units import RESUPPRESSED, STATE_FILE
from orchestration.run import prepare_dagster_home, run_pipeline
from orchestration.sample_data.cli import generate
from orchestration.settings import load_settings

PERSONS = 1_500
SEED = 16
# two years: the late correction touches the first, the new month the second
WINDOW = ("2023-07-01", "2024-12-31")
MONTHLY = ("medical_claim", "eligibility", "observation")
# the code tables rebuilt by unit (code, year) on an incremental build (macros/reporting_units.sql); the first
# four by quarter (code_modifiers is small, and its modifiers join would be read twice): a touched year's untouched
# quarters keep their rows
BY_UNIT = ("code_overview", "code_by_payer", "code_by_place_of_service", "code_by_provider_taxonomy", "code_modifiers",
           "code_related_diagnoses", "code_related_procedures")
BY_QUARTER = BY_UNIT[:4]
# the code the second-quarter correction gives to a few lines; the generator bills it nowhere
QUARTER_ONLY_CODE = "G0283"
# the claim staging without lineage (the load times of run B's rows differ from run A's)
STAGING = {
    "staging.stg_medical_claim": "*",
    "staging.stg_claim_diagnosis": "*",
    "staging.stg_claim_modifier": "*",
    "staging.base_medical_claim": "* exclude (_loaded_at)",
    "staging.base_claim_diagnosis": "* exclude (_loaded_at)",
    "staging.base_claim_modifier": "* exclude (_loaded_at)",
    # the incremental readers of the claim lines (macros/claim_line_readers.sql)
    "intermediate.int_reporting__code_lines": "* exclude (_loaded_at)",
    "intermediate.int_rehab__visit_lines": "* exclude (_loaded_at)",
}
# the incremental readers of the claim lines: compiled path under dbt_target/run/spine_outcomes/models
CLAIM_READERS = ("intermediate/reporting/int_reporting__code_lines", "intermediate/rehab/int_rehab__visit_lines")


def _run(root: Path, landing: Path) -> Path:
    data_dir = root / "data"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "DATA_DIR": str(data_dir), "LANDING_DIR": str(landing), "AS_OF_DATE": "",
            "DAGSTER_HOME": str(data_dir / "dagster_home"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "true",
            "WAREHOUSE_PATH": str(data_dir / "warehouse.duckdb"), "DUCKDB_MEMORY_LIMIT": "4GB",
            # the enrollment change is a one-span delivery, far below the previous one: not a missing delivery
            "ALLOW_MISSING_REQUIRED_DATA": "true",
        }.items():
            mp.setenv(name, value)
        settings = load_settings()
        prepare_dagster_home(settings)
        mp.setattr(orchestration.definitions, "defs", definitions_for(settings))
        assert run_pipeline(settings) == 0
    return data_dir


def _rewrite(path: Path, sql: str) -> None:
    """Replace a delivered CSV with `sql` over its rows (`delivered`, every column text)."""
    with duckdb.connect() as con:
        con.execute(f"create table delivered as select * from read_csv('{path}', all_varchar = true, header = true)")
        con.execute(f"copy ({sql}) to '{path}' (header, delimiter ',')")


def _correct_older_claims(path: Path) -> None:
    """A corrected re-delivery of an older month: 20 lines gone, a code changed on 20 others, a line whose date
    is now unreadable (quarantined: its earlier version goes), and a line added to a claim."""
    _rewrite(path, """
        with numbered as (select *, row_number() over () as n from delivered)
        select * exclude (n) replace (
                   case when n between 21 and 40 then '97110' else hcpcs_code end as hcpcs_code,
                   case when n = 41 then 'not-a-date' else claim_start_date end as claim_start_date,
                   case when n = 41 then 'not-a-date' else claim_line_start_date end as claim_line_start_date)
        from numbered where n > 20
        union all
        select * exclude (n) replace ('99' as claim_line_number, '99213' as hcpcs_code)
        from numbered where n = 50
    """)


def _correct_second_quarter(path: Path) -> None:
    """A corrected re-delivery of a month of the new month's year: five of its second-quarter lines now carry
    QUARTER_ONLY_CODE."""
    _rewrite(path, f"""
        with numbered as (
            select *, row_number() over (order by claim_id, claim_line_number) as n,
                   extract(quarter from try_cast(claim_line_start_date as date)) = 2 as in_q2
            from delivered)
        select * exclude (n, in_q2) replace (
                   case when in_q2 and n % 97 = 0 and n <= 97 * 5 then '{QUARTER_ONLY_CODE}' else hcpcs_code end
                   as hcpcs_code)
        from numbered
    """)


def _change_enrollment(landing: Path, new_month: str) -> str:
    """A commercial span of a person with no claim in the new month is delivered again in the new month's
    eligibility delivery, with payer type medicare (read with the carrier's name: no longer commercial). Returns
    the person."""
    eligibility = landing / "eligibility" / f"{new_month}.csv"
    claims_now = landing / "medical_claim" / f"{new_month}.csv"
    with duckdb.connect() as con:
        con.execute(f"create table spans as select * from read_csv('{landing}/eligibility/*.csv', "
                     "all_varchar = true, header = true, union_by_name = true)")
        # the span that decides the payer type of the person's lines with its payer: the latest one (by start)
        con.execute("create table latest as select * from spans qualify row_number() over (partition by person_id, "
                    "payer order by enrollment_start_date desc, enrollment_end_date desc) = 1")
        person, = con.execute(f"""
            select latest.person_id
            from latest
            join read_csv('{landing}/medical_claim/*.csv', all_varchar = true, header = true) as claims
              on claims.person_id = latest.person_id and claims.payer = latest.payer
            where latest.payer_type = 'commercial'
              and latest.person_id not in (select person_id from read_csv('{claims_now}', all_varchar = true,
                                                                          header = true))
            group by latest.person_id
            order by latest.person_id limit 1
        """).fetchone()
        # the new month's eligibility file, if the month brings one, plus the span delivered again
        delivered = (f"select * from read_csv('{eligibility}', all_varchar = true, header = true) union all by name "
                     if eligibility.exists() else "")
        con.execute(f"create table changed as {delivered}(select * replace ('medicare' as payer_type) from latest "
                    f"where person_id = '{person}' order by payer limit 1)")
        con.execute(f"copy changed to '{eligibility}' (header, delimiter ',')")
    return person


def _except_all(con: duckdb.DuckDBPyConnection, a: str, b: str, columns: str = "*") -> tuple[int, int, int]:
    def count(sql: str) -> int:
        return con.execute(f"select count(*) from ({sql})").fetchone()[0]

    return (count(f"select {columns} from {a} except all select {columns} from {b}"),
            count(f"select {columns} from {b} except all select {columns} from {a}"),
            count(f"select * from {a}"))


def _changed_units(con: duckdb.DuckDBPyConnection, before: str, after: str, table: str) -> set[tuple]:
    """The units of `table` in `after` whose exact rows differ from `before` (EXCEPT ALL, either way)."""
    unit = ", ".join(SPECS[table].unit)
    return set(con.execute(f"""
        select distinct {unit} from {after}.reporting.{table}
        intersect
        select distinct {unit} from (
            (select * from {before}.reporting.{table} except all select * from {after}.reporting.{table})
            union all
            (select * from {after}.reporting.{table} except all select * from {before}.reporting.{table}))
    """).fetchall())


def _resuppressed_units(con: duckdb.DuckDBPyConnection, state: str, table: str) -> set[tuple]:
    unit = ", ".join(SPECS[table].unit)
    return set(con.execute(f"select {unit} from {state}.{table} where {RESUPPRESSED}").fetchall())


def _files(root: Path) -> dict[str, bytes]:
    """Pages with their version stamp blanked (each publication names its own), QPP files as they are."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
             if p.is_file() and (p.suffix == ".html" and "site" in p.parts or "qpp_submissions" in p.parts)}
    stamp = re.compile(rb'(<code data-meta="version">)[^<]*(</code>)')
    return {name: stamp.sub(rb"\1\2", data) for name, data in files.items()}


@pytest.mark.slow
def test_incremental_month_equals_a_full_rebuild(tmp_path):
    generated = tmp_path / "generated"
    generate(PERSONS, SEED, generated, start=WINDOW[0], end=WINDOW[1])
    files = sorted(p for p in generated.rglob("*") if p.is_file())
    months = sorted({delivery_key(p) for p in files if p.parent.name == "medical_claim"})
    new_month = months[-1]
    corrected_month = next(m for m in months if m.startswith(str(int(new_month[:4]) - 1)))
    held_back = [p for p in files if p.parent.name in MONTHLY and delivery_key(p) == new_month]

    landing = tmp_path / "landing"
    for path in files:
        if path not in held_back:
            (landing / path.relative_to(generated)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, landing / path.relative_to(generated))
    run_a = _run(tmp_path / "a", landing)
    shutil.copy(run_a / "warehouse.duckdb", tmp_path / "a_before.duckdb")

    for path in held_back:
        shutil.copy(path, landing / path.relative_to(generated))
    _correct_older_claims(landing / "medical_claim" / f"{corrected_month}.csv")
    _correct_second_quarter(landing / "medical_claim" / f"{new_month[:4]}-05.csv")
    person = _change_enrollment(landing, new_month)
    _run(tmp_path / "a", landing)
    # the second run built the claim staging incrementally: a merge into the tables, not a new table
    compiled = (run_a / "dbt_target" / "run" / "spine_outcomes" / "models" / "staging")
    for model in ("base_medical_claim", "base_claim_diagnosis", "base_claim_modifier"):
        sql = (compiled / f"{model}.sql").read_text().lower()
        assert "delete from" in sql and "insert into" in sql, f"{model} was not built incrementally"
    # ... and so were the readers of the claim lines
    for model in CLAIM_READERS:
        sql = (compiled.parent / f"{model}.sql").read_text().lower()
        assert "delete from" in sql and "insert into" in sql, f"{model} was not built incrementally"
    # ... and the code tables by unit: rows appended to the tables, not new tables
    compiled = run_a / "dbt_target" / "run" / "spine_outcomes" / "models" / "reporting"
    for model in BY_UNIT:
        sql = (compiled / f"{model}.sql").read_text().lower()
        assert "insert into" in sql and "create table" not in sql, f"{model} was not built incrementally"

    run_b = tmp_path / "b" / "data"
    run_b.mkdir(parents=True)
    with duckdb.connect(str(run_b / "warehouse.duckdb")) as con:
        con.execute(f"attach '{run_a / 'warehouse.duckdb'}' as a (read_only)")
        con.execute("create schema risk_model")
        con.execute("create table risk_model.coefficients as select * from a.risk_model.coefficients")
    _run(tmp_path / "b", landing)

    with duckdb.connect() as con:
        con.execute(f"attach '{run_a / 'warehouse.duckdb'}' as a (read_only)")
        con.execute(f"attach '{run_b / 'warehouse.duckdb'}' as b (read_only)")
        # the changes reached the models: the corrected month's lines and the person's payer type
        assert con.execute(f"select count(*) from a.raw.medical_claim__quarantine where _delivery = '{corrected_month}' "
                           "and rule = 'bad_date'").fetchone()[0] >= 1
        assert con.execute(f"select count(*) from a.staging.stg_medical_claim where person_id = '{person}' "
                           "and payer_type <> 'commercial'").fetchone()[0] >= 1
        differences = {}
        for table, columns in {"marts.measure_cases": "*", **STAGING}.items():
            only_a, only_b, rows = _except_all(con, f"a.{table}", f"b.{table}", columns)
            assert rows > 0, table
            if only_a or only_b:
                differences[table] = (only_a, only_b)
        published = {}
        for name, data_dir in (("a", run_a), ("b", run_b)):
            path = current_version(data_dir).root / "published.duckdb"
            con.execute(f"attach '{path}' as pub_{name} (read_only)")
            published[name] = {r[0] for r in con.execute(
                f"select table_name from information_schema.tables where table_catalog = 'pub_{name}'").fetchall()}
        assert published["a"] == published["b"] and published["a"]
        for table in sorted(published["a"]):
            # the manifest names each publication's version (its time): the row counts must agree
            columns = "* exclude (version)" if table == "_manifest" else "*"
            only_a, only_b, _ = _except_all(con, f"pub_a.main.{table}", f"pub_b.main.{table}", columns)
            if only_a or only_b:
                differences[f"published {table}"] = (only_a, only_b)
    assert not differences, f"rows only in the incremental run / only in the full rebuild: {differences}"

    # Publication by period: exactly the units whose exact rows changed were suppressed again - every touched
    # one, no untouched one -, the late correction's year among them, and the kept units taken as they were.
    with duckdb.connect() as con:
        con.execute(f"attach '{tmp_path / 'a_before.duckdb'}' as before (read_only)")
        con.execute(f"attach '{run_a / 'warehouse.duckdb'}' as after (read_only)")
        con.execute(f"attach '{current_version(run_a).root / STATE_FILE}' as units (read_only)")
        for table in SPECS:
            changed = _changed_units(con, "before", "after", table)
            resuppressed = _resuppressed_units(con, "units", table)
            assert resuppressed == changed, (table, sorted(resuppressed - changed)[:5], sorted(changed - resuppressed)[:5])
        by_year = _resuppressed_units(con, "units", "code_by_payer")
        all_units = set(con.execute("select code, year from units.code_by_payer").fetchall())
        old_year = int(corrected_month[:4])
        assert {u for u in by_year if u[1] == old_year}, "the late correction's year was not suppressed again"
        assert {u for u in all_units - by_year if u[1] == old_year}, "every unit of the older year was rebuilt"
        # the enrollment change (no claim line of its own) reached the units of the person's lines
        person_units = set(con.execute(
            "select distinct now.code, now.year from after.intermediate.int_reporting__code_lines as now "
            "join before.intermediate.int_reporting__code_lines as was using (claim_id, claim_line_number) "
            "where now.person_id = ? and now.payer_type is distinct from was.payer_type", [person]).fetchall())
        assert person_units and person_units <= by_year
        # the code tables were rebuilt by unit: every unit whose rows changed was touched, and not every unit was
        touched = set(con.execute("select code, year from after.intermediate.int_reporting__unit_digests "
                                  "where is_touched").fetchall())
        assert person_units <= touched and {u for u in touched if u[1] == old_year}
        assert set(con.execute("select code, year from after.intermediate.int_reporting__unit_digests").fetchall()) - touched
        for table in BY_UNIT:
            changed = set(con.execute(f"""
                select distinct code, year from (
                    (select * from before.reporting.{table} except all select * from after.reporting.{table})
                    union all
                    (select * from after.reporting.{table} except all select * from before.reporting.{table}))
            """).fetchall())
            assert changed and changed <= touched, (table, sorted(changed - touched)[:5])

        # the tables by quarter: the second-quarter correction rebuilt its quarter and its year, not the year's
        # other quarters; a quarter row changed only where its quarter was touched
        new_year = int(new_month[:4])
        quarters = dict(((code, year, quarter), is_touched) for code, year, quarter, is_touched in con.execute(
            "select code, year, quarter, is_touched from after.intermediate.int_reporting__unit_digests").fetchall())
        assert {q for (c, y, q), t in quarters.items() if c == QUARTER_ONLY_CODE and t} == {2}
        assert {k for k, t in quarters.items() if k[1] == new_year and k[2] == 2 and t} - {
            (QUARTER_ONLY_CODE, new_year, 2)}, "the correction's old codes were not touched"
        kept = {k for k, t in quarters.items() if k[1] == new_year and not t}
        assert {k for k in kept if k[2] < 4 and (k[0], new_year, 4) in quarters and quarters[(k[0], new_year, 4)]}, \
            "no untouched earlier quarter of a year the new month touched"
        for table in BY_QUARTER:
            changed = set(con.execute(f"""
                select distinct code, year, quarter from (
                    (select * from before.reporting.{table} except all select * from after.reporting.{table})
                    union all
                    (select * from after.reporting.{table} except all select * from before.reporting.{table}))
                where period_type = 'quarter'
            """).fetchall())
            assert changed and not changed & kept, (table, sorted(changed & kept)[:5])
        assert con.execute(f"select list(period order by period) from after.reporting.code_overview "
                           f"where code = '{QUARTER_ONLY_CODE}'").fetchone()[0] == [f"{new_year}", f"{new_year}-Q2"]

    files_a, files_b = _files(current_version(run_a).root), _files(current_version(run_b).root)
    assert files_a.keys() == files_b.keys() and any(n.endswith(".json") for n in files_a)
    assert [n for n in files_a if files_a[n] != files_b[n]] == []
