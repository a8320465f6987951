{#- Per billing code, period and ICD-10-CM diagnosis on the same claim (claim_key: data_source with claim_id): the claims carrying both, their
    persons and their share of the code's claims; the related_codes_per_code_year most frequent diagnoses per
    code and year are kept. Grain - one row per code, period_type, period and diagnosis_code. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_units() }}") }}

{#- each claim's billing codes by the quarter they were billed in, of the units this build computes: filtered before
    the distinct (a view of every line's distinct codes, filtered afterwards, hashed every code line each time) -#}
with code_claims as (

    select distinct code, claim_key, person_id, year, quarter
    from {{ ref('int_reporting__code_lines') }} as lines
    {{- touched_units_only('lines') }}

),

{#- the diagnoses of those claims: any line's diagnosis counts for the whole claim -#}
diagnoses as (

    select distinct claim_key, diagnosis_code
    from {{ ref('stg_claim_diagnosis') }}
    where claim_key in (select claim_key from code_claims)

),

pairs as (

    select code_claims.*, diagnoses.diagnosis_code
    from code_claims
    inner join diagnoses
        on code_claims.claim_key = diagnoses.claim_key

),

related as (

    {{ related_code_counts('pairs', 'diagnosis_code',
                           publication_parameter('related_codes_per_code_year', dbt.type_int())) }}

),

code_totals as (

    select code, period_type, period, claims as code_claims from {{ ref('code_overview') }}

)

select
    related.code,
    related.period_type,
    related.period,
    related.year,
    related.quarter,
    related.diagnosis_code,
    related.claims,
    related.persons,
    icd10.diagnosis_description,
    icd10.diagnosis_code is not null as is_valid_icd10,
    {{ share_pct('related.claims', 'code_totals.code_claims') }} as share_of_claims_pct
from related
inner join code_totals
    on related.code = code_totals.code
    and related.period_type = code_totals.period_type
    and related.period = code_totals.period
left join {{ source('labels', 'icd10_cm') }} as icd10
    on related.diagnosis_code = icd10.diagnosis_code
