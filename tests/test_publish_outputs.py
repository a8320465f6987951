"""The publication built from a hand-made warehouse: counts, privacy, QPP files and the site's pages."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import qpp
from orchestration.publish.publisher import publish
from orchestration.publish.tables import BENCHMARK_POSITION, BENCHMARKS, SPECS

# The count columns of every published table (the benchmark position has none: ranks, deciles, rates).
COUNTS = {**{name: spec.counts for name, spec in SPECS.items()}, BENCHMARKS.name: BENCHMARKS.counts,
          BENCHMARK_POSITION: ()}
from publish_support import build_warehouse

pytestmark = pytest.mark.xdist_group("publish_outputs")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("publish")
    warehouse = build_warehouse(data_dir / "warehouse.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = publish(con, data_dir)
    pub = duckdb.connect(str(result.db_path), read_only=True)
    pub.execute(f"attach '{warehouse}' as wh (read_only true)")
    yield data_dir, result, pub
    pub.close()


def test_code_counts_equal_an_independent_count_over_staged_claims(published):
    _, _, pub = published
    mismatches = pub.execute(
        """
        with expected as (
            select hcpcs_code as code, year(service_date)::varchar as period, count(*) as claim_lines,
                   count(distinct claim_id) as claims, count(distinct person_id) as persons
            from wh.staging.stg_medical_claim group by all
        )
        select e.code, e.period, e.claim_lines, o.claim_lines, o.claim_lines_suppressed
        from expected as e
        left join code_overview as o on o.code = e.code and o.period = e.period and o.period_type = 'year'
        where o.code is null
           or (not o.claim_lines_suppressed and (o.claim_lines <> e.claim_lines or o.claims <> e.claims))
           or (o.claim_lines_suppressed and e.claim_lines > 10 and o.claim_lines is not null)
        """
    ).fetchall()
    assert mismatches == []
    visible = pub.execute("select count(*) from code_overview where not claim_lines_suppressed").fetchone()[0]
    assert visible > 0


def test_every_qdc_of_the_seed_is_in_the_catalog(published):
    _, _, pub = published
    missing = pub.execute(
        "select hcpcs_code from wh.reference.quality_data_codes except select code from code_catalog"
    ).fetchall()
    assert missing == []


def test_no_identifier_no_small_count_and_rates_in_range(published):
    _, result, pub = published
    for table in result.row_counts:
        columns = {r[0]: r[1] for r in pub.execute(f"describe {table}").fetchall()}
        assert not {"person_id", "case_id", "birth_date", "claim_id"} & set(columns), table
        for column in COUNTS[table]:
            small = pub.execute(f"select count(*) from {table} where {column} between 1 and 10").fetchone()[0]
            assert small == 0, (table, column)
        for column in (c for c in columns if c.endswith("_pct")):
            bad = pub.execute(f"select count(*) from {table} where {column} not between 0 and 100").fetchone()[0]
            assert bad == 0, (table, column)


def test_suppression_leaves_no_recoverable_cell(published):
    """No additive set has exactly one hidden cell beside visible non-zero ones (a lone hidden cell with only
    zeros beside it equals its total, which is then hidden too); derived figures follow their sources."""
    _, result, pub = published
    for table, spec in SPECS.items():
        for group in spec.groups:
            partition = ", ".join(group.partition)
            for column in spec.counts:
                lone = pub.execute(
                    f"select count(*) from (select count_if({column}_suppressed) as n, "
                    f"count_if(not {column}_suppressed and {column} > 0) as open_cells from {table} "
                    f"where {group.where} group by {partition}) where n = 1 and open_cells > 0"
                ).fetchone()[0]
                assert lone == 0, (table, column, group)
        for columns in spec.row_sets:
            hidden = " + ".join(f"{c}_suppressed::int" for c in columns)
            open_cells = " + ".join(f"(not {c}_suppressed and {c} > 0)::int" for c in columns)
            lone = pub.execute(f"select count(*) from {table} where {hidden} = 1 and {open_cells} > 0").fetchone()[0]
            assert lone == 0, (table, columns)
        for derived, sources in spec.derived.items():
            leak = " or ".join(f"{s}_suppressed" for s in sources)
            n = pub.execute(f"select count(*) from {table} where ({leak}) and {derived} is not null").fetchone()[0]
            assert n == 0, (table, derived)
    assert pub.execute("select count(*) from code_by_payer where claim_lines_suppressed").fetchone()[0] > 0


def test_category_ii_modifier_on_a_g_code_is_flagged(published):
    _, _, pub = published
    flagged = pub.execute(
        "select distinct code from code_modifiers where modifier = '8P' and is_invalid"
    ).fetchall()
    assert flagged and all(code.startswith("G") for (code,) in flagged)
    assert pub.execute("select count(*) from code_modifiers where modifier = 'KX' and is_invalid").fetchone()[0] == 0


def test_measure_performance_all_row_equals_the_case_table(published):
    _, _, pub = published
    rows = pub.execute(
        """
        with expected as (
            select measure_id, performance_year, count_if(status = 'met') as met,
                   count_if(status in ('met', 'not_met', 'not_measured')) as eligible
            from wh.marts.measure_cases group by all
        )
        select e.*, p.met, p.eligible_population, p.met_suppressed
        from expected as e join measure_performance as p
          on p.measure_id = e.measure_id and p.performance_year = e.performance_year
         and p.stratum = 'all' and p.entity_level = 'all'
        """
    ).fetchall()
    assert rows
    for _, _, met, eligible, p_met, p_eligible, met_hidden in rows:
        assert p_eligible in (eligible, None)
        assert p_met == met or (met_hidden and p_met is None)


def test_every_qpp_file_validates_and_counts_equal_the_case_table(published):
    data_dir, result, pub = published
    files = sorted((data_dir / "qpp_submissions").glob("*.json"))
    assert len(files) == result.qpp_files > 0 and result.qpp_report.skipped == []
    validator = qpp.load_validator()
    seen = {}
    for path in files:
        submission = json.loads(path.read_text())
        assert qpp.check_submission(submission, validator) == []
        for m in submission["measurementSets"][0]["measurements"]:
            for rates in m["value"].get("strata", [m["value"]]):
                key = (submission["taxpayerIdentificationNumber"], submission["performanceYear"], m["measureId"],
                       rates.get("stratum"))
                seen[key] = (rates["performanceMet"], rates["performanceNotMet"], rates["eligiblePopulation"])
    # the case table's strata under the names QPP gives them that year (none for a single-rate year)
    expected = pub.execute(
        """
        select c.tin, c.performance_year, c.measure_id, y.qpp_stratum, count_if(c.status = 'met'),
               count_if(c.status in ('not_met', 'not_measured')),
               count_if(c.status in ('met', 'not_met', 'not_measured'))
        from wh.marts.measure_cases as c
        join wh.reference.measure_stratum_years as y using (measure_id, stratum, performance_year)
        where c.status not in ('pending', 'not_eligible') group by all
        """
    ).fetchall()
    assert expected
    for tin, year, measure, stratum, met, not_met, eligible in expected:
        assert seen[(tin, year, measure, stratum)] == (met, not_met, eligible)
    # fusion cases of PY2023 are not_eligible: not submitted, and said so
    assert {"measure_id": "459", "performance_year": 2023,
            "reason": "stratum lumbarFusion of measure 459 is not defined by CMS for PY2023"} \
        in result.qpp_report.not_submitted


def test_schema_rejects_a_wrong_submission():
    validator = qpp.load_validator()
    bad = {"entityType": "group", "taxpayerIdentificationNumber": "123456789", "performanceYear": 2024,
           "measurementSets": [{"category": "quality", "submissionMethod": "claims", "performanceStart": "2024-01-01",
                                "performanceEnd": "2024-12-31", "measurements": []}]}
    assert qpp.check_submission(bad, validator) != []


@pytest.mark.parametrize("code", ["G2137", "G8659"])
def test_code_pages_render_with_their_charts(published, code):
    data_dir, _, _ = published
    html = (data_dir / "published" / "site" / "codes" / f"{code}.html").read_text()
    for heading in ("Claim lines by quarter", "Payer mix", "Place of service", "Rendering provider taxonomy",
                    "Modifiers", "Related diagnoses", "Related procedures", "In its measure"):
        assert f">{heading}" in html, heading
    assert html.count("<svg") >= 2 and f'data-chart="trend-{code}"' in html
    assert "person" not in html.lower().replace("persons", "")


def test_follow_up_worklist_counts_are_the_worklist_counts_suppressed(published):
    data_dir, result, pub = published
    rows = pub.execute(
        """
        with expected as (
            select measure_id, 'all' as entity_level, null as tin, sum(open_cases) as open_cases,
                   sum(not_yet_due + due_now + closing_soon) as missing, sum(missed) as missed
            from wh.marts.follow_up_counts group by measure_id
            union all
            select measure_id, 'tin', tin, open_cases, not_yet_due + due_now + closing_soon, missed
            from wh.marts.follow_up_counts
        )
        select e.*, p.open_cases, p.open_missing_score, p.missed, p.open_missing_score_pct
        from expected as e
        left join follow_up_worklist_counts as p
          on p.measure_id = e.measure_id and p.entity_level = e.entity_level and p.tin is not distinct from e.tin
        """
    ).fetchall()
    assert len(rows) == 20
    for measure, level, tin, open_cases, missing, missed, p_open, p_missing, p_missed, p_pct in rows:
        assert p_open in (open_cases, None) and p_missing in (missing, None) and p_missed in (missed, None)
        if p_pct is not None:
            assert float(p_pct) == round(100 * missing / open_cases, 2)
    hidden = pub.execute("select count_if(due_now_suppressed), count_if(due_now is not null) "
                         "from follow_up_worklist_counts").fetchone()
    assert hidden[0] > 0 and hidden[1] > 0, "the fixture has small and large cells"
    page = (result.dir_path / "site" / "measures" / "459.html").read_text()
    share = pub.execute("select open_missing_score_pct from follow_up_worklist_counts"
                        " where measure_id = '459' and entity_level = 'all'").fetchone()[0]
    assert f"{share:.2f}% of the" in page
