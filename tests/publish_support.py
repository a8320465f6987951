"""A hand-made warehouse with the agreed staging / mart / seed columns, for the publication tests, and the real
reporting models (dbt) built on it.

Deterministic synthetic data (DuckDB `range` + `hash`), shaped so that some cells are small (1..10) and some
large, with an invalid Category II modifier on a G-code and cases of measures 459 and 220 across three TINs.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import DBT_PROJECT, duckdb_dbt_env, process_scratch
from orchestration.assets.code_labels import write_code_labels
from orchestration.ingest.ledger import create_ledger
from registry_support import copy_registry

REPORTING_SELECTION = ["models/intermediate/reporting", "models/reporting"]


@functools.cache
def _dbt_target() -> Path:
    """One dbt target folder per test process: later builds reuse its partial parse."""
    return process_scratch("reporting-dbt-")


def run_dbt_models(warehouse: Path, *selection: str, full_refresh: bool = False) -> None:
    """`dbt run --select selection` on `warehouse` (the models it refs must already be tables there)."""
    target = _dbt_target()
    env = duckdb_dbt_env(warehouse, target)
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "run", "--select", *selection, *(["--full-refresh"] if full_refresh else []), "--project-dir",
         str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dbt run --select {' '.join(selection)} failed:\n{result.stdout[-6000:]}"


def build_reporting(warehouse: Path, cpt_file: Path | None = None, full_refresh: bool = False) -> None:
    """The code labels (as the dbt step writes them before a build that reads them) and the dbt reporting models,
    on `warehouse`. `full_refresh`: after an edit of this warehouse's staging tables, which has no delivery
    versions for the incremental code lines to find (tests/test_incremental_equivalence.py tests those)."""
    with duckdb.connect(str(warehouse)) as con:
        write_code_labels(con, cpt_file)
    run_dbt_models(warehouse, *REPORTING_SELECTION, full_refresh=full_refresh)

CODES = "['G2137', 'G8659', '63030', '97161', 'G2136', '22612', 'G9943', 'G8660', '99213', 'G2137']"


def build_warehouse(path: Path, n_claims: int = 3000, n_cases: int = 400, seed: int = 0,
                    cpt_file: Path | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for schema in ("staging", "marts", "reference"):
            con.execute(f"create schema if not exists {schema}")
        copy_registry(con)
        # the delivery ledger the code lines read (macros/claim_line_readers.sql): empty, no file was loaded
        create_ledger(con)
        con.execute(
            f"""
            create or replace table staging.stg_medical_claim as
            with base as (
                select i, abs(hash(i + {seed})) as h from range({n_claims}) as t(i)
            ),
            lines as (
                select i, h, 1 as claim_line_number, {CODES}[1 + (h % 10)::int] as code from base
                union all
                select i, h, 2, '97110' from base where i % 3 = 0
            )
            select 'C' || i as claim_id, claim_line_number, '7:fixture|C' || i as claim_key,
                   'P' || (h % 500) as person_id,
                   'professional' as claim_type,
                   case when i % 50 = 0 then 'Tiny Payer'
                        else ['Medicare', 'Aetna', 'Blue Cross'][1 + (h // 10 % 3)::int] end as payer,
                   'commercial' as payer_type, null as plan,
                   date '2023-01-01' + (h // 100 % 730)::int as service_date,
                   ['11', '22', '24', '11'][1 + (h // 7 % 4)::int] as place_of_service_code,
                   code as hcpcs_code, (1 + i % 2)::decimal(10, 2) as service_unit_quantity,
                   '10000000' || (h // 13 % 9)::varchar || '0' as rendering_npi,
                   '12345678' || (h // 13 % 9 % 3)::varchar as rendering_tin,
                   null as billing_npi, null as billing_tin,
                   (50 + h % 100)::decimal(12, 2) as allowed_amount, (40 + h % 80)::decimal(12, 2) as paid_amount,
                   (90 + h % 100)::decimal(12, 2) as charge_amount, 'fixture' as data_source
            from lines
            """
        )
        con.execute(
            """
            create or replace table staging.stg_claim_diagnosis as
            select claim_id, claim_line_number, claim_key, person_id, service_date, 1 as diagnosis_position,
                   ['M5416', 'M5450', 'M5126', 'G20A1', 'XYZ99'][1 + (abs(hash(claim_id)) % 5)::int] as diagnosis_code
            from staging.stg_medical_claim where claim_line_number = 1
            union all
            select claim_id, claim_line_number, claim_key, person_id, service_date, 2, 'M4806'
            from staging.stg_medical_claim where claim_line_number = 1 and abs(hash(claim_id)) % 3 = 0
            """
        )
        con.execute(
            """
            create or replace table staging.stg_claim_modifier as
            select claim_id, claim_line_number, claim_key, 1 as modifier_position,
                   case when hcpcs_code like 'G%' and abs(hash(claim_id)) % 40 = 0 then '8P'
                        when hcpcs_code like '97%' then 'GP' else 'KX' end as modifier
            from staging.stg_medical_claim where abs(hash(claim_id)) % 4 = 0 or hcpcs_code like '97%'
            """
        )
        con.execute(
            """
            create or replace table staging.stg_provider as
            select distinct rendering_npi as npi,
                   ['207XS0117X', '225100000X', '208100000X'][1 + (abs(hash(rendering_npi)) % 3)::int]
                       as taxonomy_code
            from staging.stg_medical_claim
            """
        )
        # the payer resolution the code lines apply to base_medical_claim (macros/claim_lines_with_payer.sql): every
        # spelling is its own payer with the fixture's payer type, no enrollment overrides it
        con.execute(
            """
            create or replace table staging.stg_payer_spellings as
            select distinct lower(trim(payer)) as spelling, payer, payer_type from staging.stg_medical_claim;
            create or replace table staging.stg_enrollment_payer_types as
            select person_id, payer, payer_type from staging.stg_medical_claim where false
            """
        )
        # the versioned claim lines the code lines and the unit digests of the code tables read: here a view, whose
        # version of a line is its content, diagnoses and modifiers, so that a changed line is a new one
        con.execute(
            """
            create or replace view staging.base_medical_claim as
            with diagnoses as (
                select claim_id, claim_line_number,
                       string_agg(diagnosis_position || ':' || diagnosis_code, ',' order by diagnosis_position) as codes
                from staging.stg_claim_diagnosis group by all
            ),
            modifiers as (
                select claim_id, claim_line_number,
                       string_agg(modifier_position || ':' || modifier, ',' order by modifier_position) as codes
                from staging.stg_claim_modifier group by all
            )
            select lines.claim_id, lines.claim_line_number, lines.claim_key, lines.data_source, lines.person_id,
                   lines.payer,
                   lower(trim(lines.payer)) as payer_key, lines.service_date, lines.place_of_service_code,
                   lines.hcpcs_code, lines.service_unit_quantity, lines.rendering_npi, lines.rendering_tin,
                   lines.allowed_amount, lines.paid_amount,
                   md5(cast(lines as varchar) || '|' || coalesce(diagnoses.codes, '') || '|'
                       || coalesce(modifiers.codes, '')) as _delivery,
                   null::timestamp as _loaded_at
            from staging.stg_medical_claim as lines
            left join diagnoses using (claim_id, claim_line_number)
            left join modifiers using (claim_id, claim_line_number)
            """
        )
        con.execute(
            f"""
            create or replace table marts.measure_cases as
            with base as (
                select i, abs(hash(i * 7 + {seed})) as h from range({n_cases}) as t(i)
            ),
            shaped as (
                select i, h,
                       case when i % 4 = 0 then '220' else '459' end as measure_id,
                       case when i % 4 = 0 then 'overall' when i % 3 = 0 then 'lumbarFusion'
                            else 'lumbarDiscectomy' end as stratum,
                       -- fusion cases before PY2024 (window end = index + 140 days here): not_eligible, as
                       -- CMS defines 459's fusion stratum from PY2024
                       case when i % 4 <> 0 and i % 3 = 0
                                 and year(date '2023-01-01' + (h // 8 % 600)::int + 140) < 2024 then 'not_eligible'
                            else ['met', 'met', 'not_met', 'not_measured', 'excluded', 'met', 'pending', 'not_met']
                                     [1 + (h % 8)::int] end as status,
                       -- TIN 0 is large, TIN 1 medium, TIN 2 small: small cells on purpose
                       case when i % 10 < 7 then '123456780' when i % 10 < 9 then '123456781'
                            else '123456782' end as tin,
                       date '2023-01-01' + (h // 8 % 600)::int as index_date
                from base
            )
            select md5('P' || (h % 500) || '|' || measure_id || '|' || stratum || '|' || index_date) as case_id,
                   'P' || (h % 500) as person_id, measure_id, stratum, index_date,
                   case when measure_id = '220' then index_date + 40 end as episode_end_date,
                   case when measure_id = '220' then index_date else index_date + 42 end as window_start,
                   case when measure_id = '220' then index_date + 40 else index_date + 140 end as window_end,
                   6.0::decimal(9, 3) as pre_score, index_date as pre_score_date,
                   2.0::decimal(9, 3) as post_score, index_date + 90 as post_score_date,
                   4.0::decimal(9, 3) as improvement, null::decimal(9, 3) as actual_change,
                   null::decimal(9, 3) as predicted_change, null as predictor, null as predictor_version,
                   null::decimal(9, 3) as residual, status,
                   case when status in ('pending', 'not_eligible') then null
                        when measure_id = '220' then
                            case status when 'met' then 'G8659' when 'not_met' then 'G8660'
                                        when 'not_measured' then 'G8662' else 'M1122' end
                        when stratum = 'lumbarFusion' then
                            case status when 'met' then 'G2138' when 'not_met' then 'G2139'
                                        when 'not_measured' then 'G9946' else 'G9945' end
                        else case status when 'met' then 'G2136' when 'not_met' then 'G2137'
                                         when 'not_measured' then 'G9943' else 'G9945' end
                   end as qdc_code,
                   case when status = 'not_eligible'
                        then 'stratum lumbarFusion of measure 459 is not defined by CMS for PY' || year(index_date + 140)
                        else 'fixture' end as reason,
                   year(case when measure_id = '220' then index_date + 40 else index_date + 140 end)::int
                       as performance_year,
                   tin, '10000000' || (h % 9)::varchar || '0' as rendering_npi
            from shaped
            """
        )
        # follow-up worklist counts per measure and TIN: TIN 0 large, TIN 1 small, TIN 2 and no TIN tiny
        con.execute(
            """
            create or replace table marts.follow_up_counts as
            with cells as (
                select measure_id, tin, k,
                       (abs(hash(measure_id || coalesce(tin, '-'))) % 7 + 1) * k as scored_in_window,
                       (abs(hash(tin || measure_id || 'a')) % 5) * k as not_yet_due,
                       (abs(hash(tin || measure_id || 'b')) % 9 + 1) * k as due_now,
                       (abs(hash(tin || measure_id || 'c')) % 4) * k as closing_soon,
                       (abs(hash(tin || measure_id || 'd')) % 6) * k as missed
                from (values ('459'), ('461'), ('471'), ('220')) as m(measure_id)
                cross join (values ('123456780', 6), ('123456781', 2), ('123456782', 1), (null, 1)) as t(tin, k)
            )
            select measure_id, tin, date '2024-12-31' as as_of_date,
                   (scored_in_window + not_yet_due + due_now + closing_soon)::bigint as open_cases,
                   scored_in_window::bigint as scored_in_window, not_yet_due::bigint as not_yet_due,
                   due_now::bigint as due_now, closing_soon::bigint as closing_soon, missed::bigint as missed
            from cells
            """
        )
    finally:
        con.close()
    build_reporting(path, cpt_file)
    return path
