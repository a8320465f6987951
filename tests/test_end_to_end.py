"""The real graph on generated deliveries with defects: the run succeeds, every quality-data code of 459 and
220 is assigned, counts reconcile from the ingestion ledger to the published tables and QPP files, and
nothing identifying or small is published."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from e2e_support import PipelineRun

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

CODES = {
    "459": {"G2136", "G2137", "G9943", "G2138", "G2139", "G9946", "G9945"},
    "220": {"G8659", "G8660", "G8662", "M1122", "G9733"},
}
RAW_TABLES = ("medical_claim", "eligibility", "observation", "provider")
DAMAGED_TABLES = ("medical_claim", "eligibility", "observation")
# integer columns of the published tables that are keys, not counts
NON_COUNT_COLUMNS = ("year", "quarter", "performance_year", "percentile", "benchmark_year", "decile")
IDENTIFIER_COLUMNS = ("person_id", "patient_id", "member_id", "birth_date", "case_id", "claim_id", "episode_id")


@contextmanager
def warehouse(run: PipelineRun):
    """The warehouse read-only, with the publication attached as `pub`."""
    con = duckdb.connect(str(run.settings.warehouse_path), read_only=True)
    try:
        con.execute(f"attach '{run.settings.published_db_path}' as pub (read_only)")
        yield con
    finally:
        con.close()


def test_run_succeeds(pipeline_run):
    assert pipeline_run.exit_code == 0


def test_every_quality_data_code_is_assigned(pipeline_run):
    with warehouse(pipeline_run) as con:
        found = con.execute(
            "select measure_id, list(distinct qdc_code) from marts.measure_cases"
            " where measure_id in ('459', '220') and qdc_code is not null group by measure_id").fetchall()
    assert {m: set(codes) for m, codes in found} == CODES


def test_case_counts_reconcile_per_measure(pipeline_run):
    with warehouse(pipeline_run) as con:
        rows = con.execute("""
            select measure_id, count(*),
                   count(*) filter (where status = 'met') + count(*) filter (where status = 'not_met')
                   + count(*) filter (where status = 'not_measured') + count(*) filter (where status = 'excluded')
                   + count(*) filter (where status = 'pending') + count(*) filter (where status = 'not_eligible'),
                   count(*) filter (where (status in ('pending', 'not_eligible')) <> (qdc_code is null))
            from marts.measure_cases group by measure_id order by measure_id""").fetchall()
    assert [r[0] for r in rows] == ["220", "459", "461", "471"]
    for measure, cases, outcomes, code_mismatch in rows:
        assert cases == outcomes, f"measure {measure}: {cases} cases, {outcomes} with an outcome"
        assert code_mismatch == 0, f"measure {measure}: a code on a pending case or none on a decided one"


def test_rows_read_are_loaded_or_quarantined(pipeline_run):
    with warehouse(pipeline_run) as con:
        for table in RAW_TABLES:
            read, loaded, quarantined, failed = con.execute(
                "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined), count(*) filter (where status <> 'loaded')"
                " from raw._deliveries where table_name = ?", [table]).fetchone()
            in_raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            in_quarantine = con.execute(f"select count(*) from raw.{table}__quarantine").fetchone()[0]
            assert failed == 0, table
            assert read == loaded + quarantined, table
            assert (loaded, quarantined) == (in_raw, in_quarantine), table
            assert read == pipeline_run.generated_rows[table], f"{table}: the ledger read other rows than were written"
            if table in DAMAGED_TABLES:
                assert quarantined > 0, f"{table}: defects were generated but none was quarantined"


# Independent counts of the code tables' cells from the staged claim lines (docs/published_tables.md: periods
# are calendar quarters and years of the service date; lines without a code or a service date are left out).
INDEPENDENT_COUNTS = """
    with lines as (
        select hcpcs_code as code, claim_id, person_id, coalesce(payer, '(unknown)') as payer,
               coalesce(place_of_service_code, '(unknown)') as place_of_service_code,
               year(service_date) as year, year(service_date) || '-Q' || quarter(service_date) as quarter_label
        from staging.stg_medical_claim
        where hcpcs_code is not null and service_date is not null
    ),
    periods as (
        select *, 'year' as period_type, cast(year as varchar) as period from lines
        union all
        select *, 'quarter', quarter_label from lines
    )
    select code, period_type, period, {dims}, count(*) as claim_lines, count(distinct claim_id) as claims,
           count(distinct person_id) as persons
    from periods group by all
"""


@pytest.mark.parametrize(
    ("table", "dims"),
    [("code_overview", ()), ("code_by_payer", ("payer",)), ("code_by_place_of_service", ("place_of_service_code",))],
)
def test_published_code_counts_equal_an_independent_count(pipeline_run, table, dims):
    keys = ("code", "period_type", "period", *dims)
    select_dims = ", ".join(dims) if dims else "null as no_dim"
    join = " and ".join(f"p.{k} = i.{k}" for k in keys)
    with warehouse(pipeline_run) as con:
        compared, mismatches = con.execute(f"""
            with independent as ({INDEPENDENT_COUNTS.format(dims=select_dims)}),
            cells as (
                select p.code, p.period, m.measure, m.published, m.suppressed, m.expected
                from pub.{table} p left join independent i on {join},
                lateral (values ('claim_lines', p.claim_lines, p.claim_lines_suppressed, i.claim_lines),
                                ('claims', p.claims, p.claims_suppressed, i.claims),
                                ('persons', p.persons, p.persons_suppressed, i.persons))
                     as m(measure, published, suppressed, expected)
            )
            select count(*), list(cells) filter (where published is distinct from coalesce(expected, 0))
            from cells where not suppressed""").fetchone()
    assert compared > 100, f"too few unsuppressed cells in {table} to compare"
    assert not mismatches, f"{table}: {mismatches[:5]}"


def _qpp_rows(qpp_dir: Path) -> list[tuple]:
    rows = []
    for path in sorted(qpp_dir.glob("qpp_*.json")):
        doc = json.loads(path.read_text())
        for measurement in doc["measurementSets"][0]["measurements"]:
            value = measurement["value"]
            for stratum in value.get("strata", [{**value, "stratum": None}]):
                rows.append((doc["taxpayerIdentificationNumber"], doc["performanceYear"], measurement["measureId"],
                             stratum["stratum"], stratum["performanceMet"], stratum["performanceNotMet"],
                             stratum["eligiblePopulation"]))
    return rows


def test_qpp_counts_equal_the_case_table(pipeline_run):
    submitted = _qpp_rows(pipeline_run.settings.data_dir / "qpp_submissions")
    with warehouse(pipeline_run) as con:
        # every TIN-year-measure with a decided case is submitted, with every stratum CMS defines that year under
        # its QPP name (none for a single-rate year)
        expected = con.execute("""
            with submitted as (
                select distinct tin, performance_year, measure_id from marts.measure_cases
                where status not in ('pending', 'not_eligible') and tin is not null
            ),
            strata as (
                select measure_id, performance_year, stratum, qpp_stratum from reference.measure_stratum_years
                where not_eligible_reason is null
            )
            select s.tin, s.performance_year, s.measure_id, st.qpp_stratum,
                   count(c.case_id) filter (where c.status = 'met'),
                   count(c.case_id) filter (where c.status in ('not_met', 'not_measured')),
                   count(c.case_id) filter (where c.status in ('met', 'not_met', 'not_measured'))
            from submitted s join strata st using (measure_id, performance_year)
            left join marts.measure_cases c
              on c.tin = s.tin and c.performance_year = s.performance_year
             and c.measure_id = s.measure_id and c.stratum = st.stratum
            group by all""").fetchall()
    assert len(submitted) > 10
    assert sorted(submitted, key=repr) == sorted(expected, key=repr)


@pytest.mark.parametrize("code", ["G2137", "G8659"])
def test_code_page_exists_with_a_bar_for_every_quarter(pipeline_run, code):
    site = pipeline_run.settings.published_dir / "site"
    html = (site / "codes" / f"{code}.html").read_text()
    with duckdb.connect(str(pipeline_run.settings.published_db_path), read_only=True) as con:
        quarters = con.execute("select period, claim_lines_suppressed from code_overview"
                               " where code = ? and period_type = 'quarter'", [code]).fetchall()
    assert quarters, f"{code} is on no claim line of the e2e data"
    for period, hidden in quarters:
        assert f'id="trend-{code}-{"hidden-" if hidden else ""}{period}"' in html, period


def test_published_database_has_no_identifier_and_no_small_count(pipeline_run):
    with warehouse(pipeline_run) as con:
        columns = con.execute(
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_catalog = 'pub' and table_name not like '\\_%' escape '\\'").fetchall()
        assert {c[0] for c in columns} >= {"code_overview", "measure_performance", "reporting_accuracy"}
        leaked = [c for c in columns if c[1] in IDENTIFIER_COLUMNS]
        assert not leaked
        counts = [(t, c) for t, c, dtype in columns
                  if dtype in ("INTEGER", "BIGINT", "HUGEINT") and c not in NON_COUNT_COLUMNS]
        assert len(counts) > 30
        small = [(t, c) for t, c in counts
                 if con.execute(f'select count(*) from pub."{t}" where "{c}" between 1 and 10').fetchone()[0]]
        assert not small, f"counts from 1 to 10 published: {small}"
        text_columns = [(t, c) for t, c, dtype in columns if dtype == "VARCHAR"]
        persons = con.execute("select count(*) from staging.stg_person").fetchone()[0]
        assert persons > 0
        for table, column in text_columns:
            hits = con.execute(f'select count(*) from pub."{table}" where "{column}" in '
                               "(select person_id from staging.stg_person)").fetchone()[0]
            assert hits == 0, f"person identifiers in {table}.{column}"


def test_risk_model_version_recorded_on_220_cases(pipeline_run):
    with warehouse(pipeline_run) as con:
        versions = {r[0] for r in con.execute("select distinct version from risk_model.coefficients").fetchall()}
        scored = con.execute("""
            select predictor, predictor_version, count(*) from marts.measure_cases
            where measure_id = '220' and qdc_code in ('G8659', 'G8660') group by all""").fetchall()
    assert versions
    assert {p for p, _, _ in scored} == {"vendor", "open_model"}
    assert all(version is not None for _, version, _ in scored)
    assert {v for p, v, _ in scored if p == "open_model"} <= {str(v) for v in versions}


def test_follow_up_worklist_is_built_checked_and_published_without_identifiers(pipeline_run):
    with warehouse(pipeline_run) as con:
        listed = dict(con.execute(
            "select measure_id, count(*) from marts.follow_up_worklist group by all").fetchall())
        unlisted = con.execute(
            "select count(*) from marts.measure_cases where status = 'pending' and post_score is null"
            " and case_id not in (select case_id from marts.follow_up_worklist)").fetchone()[0]
        published = con.execute(
            "select measure_id, open_cases, open_missing_score_pct, open_missing_score_pct_suppressed"
            " from pub.follow_up_worklist_counts where entity_level = 'all' order by measure_id").fetchall()
    assert set(listed) == {"220", "459", "461", "471"} and unlisted == 0
    assert [m for m, *_ in published] == ["220", "459", "461", "471"]
    page = (pipeline_run.settings.published_dir / "site" / "measures" / "459.html").read_text()
    _, open_cases, share, hidden = published[1]
    assert "Follow-up worklist" in page and (hidden or f"{share:.2f}% of the {open_cases:,} cases" in page)
