{#- The visits of each rehab measure: claim lines with a diagnosis of the measure's diagnosis value set in any
    position, plus every line of its discharge code (M1012) whatever its diagnosis. Lines for other reasons are
    not visits and never extend an episode. The value sets, discharge code and minimum age are those of the
    line's service year (int_rehab__parameters; before the first specified year, those of the first).
    Incremental (macros/claim_line_readers.sql): a build rewrites the lines with a new version, those the as-of
    date lets in or out, and the held lines of persons whose birth date changed (kept as _birth_date); a change of
    the value sets or parameters (the reference digest) rewrites every line. The lines are read from
    base_medical_claim with the as-of date (no payer is read). -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy=claim_incremental_strategy(),
    unique_key=['measure_id', 'claim_key', 'claim_line_number'],
    on_schema_change='fail',
    post_hook="{{ delete_deleted_rows() }}",
) }}
{{- claim_reader_upgrade() }}

{%- set reference = claim_reader_reference(
        [ref('rehab_diagnoses'), ref('initial_evaluation_codes'), ref('int_rehab__parameters')],
        [age_in_years('b', 'd'), year_in_range('y', 'f', 't'), diagnosis_codes_under_prefixes('d', 'v')]) %}

{%- set held_changes %}
    select held.claim_id, held.claim_line_number, held.claim_key
    from {{ this }} as held
    left join {{ ref('stg_person') }} as persons
        on held.person_id = persons.person_id
    where held._birth_date is distinct from persons.birth_date
{%- endset %}

with

{% if is_incremental() -%}
{{ claim_reader_touched_lines(held_changes=held_changes, reference=reference,
                              as_of="cast('" ~ run_var('as_of_date') ~ "' as date)") }},
{%- endif %}

claims as (

    select * from {{ ref('base_medical_claim') }} as claims
    where service_date <= cast('{{ run_var("as_of_date") }}' as date)
    {{- on_touched_lines('claims') }}

),

diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }} as diagnoses
    where true
    {{- on_touched_lines('diagnoses') }}

),

persons as (

    select * from {{ ref('stg_person') }}

),

rehab_diagnoses as (

    select * from {{ ref('rehab_diagnoses') }}

),

initial_evaluation_codes as (

    select * from {{ ref('initial_evaluation_codes') }}

),

parameters as (

    select * from {{ ref('int_rehab__parameters') }}

),

{#- the value sets' prefixes matched against the distinct diagnosis codes -#}
value_set_codes as (

    select distinct
        codes.diagnosis_code,
        rehab_diagnoses.value_set,
        rehab_diagnoses.performance_year_from,
        rehab_diagnoses.performance_year_to
    from {{ diagnosis_codes_under_prefixes('diagnoses', 'rehab_diagnoses') }}

),

measure_diagnosis_lines as (

    select distinct
        parameters.measure_id,
        diagnoses.claim_id,
        diagnoses.claim_line_number,
        diagnoses.claim_key
    from diagnoses
    inner join value_set_codes
        on diagnoses.diagnosis_code = value_set_codes.diagnosis_code
    inner join parameters
        on cast(extract(year from diagnoses.service_date) as integer) = parameters.performance_year
        and value_set_codes.value_set = parameters.diagnosis_value_set
        and {{ year_in_range('parameters.value_set_year', 'value_set_codes.performance_year_from',
                             'value_set_codes.performance_year_to') }}

),

lines as (

    select
        parameters.measure_id,
        claims.claim_id,
        claims.claim_line_number,
        claims.claim_key,
        claims.person_id,
        claims.service_date,
        claims.hcpcs_code,
        claims.rendering_tin,
        claims.rendering_npi,
        claims._delivery,
        claims._loaded_at,
        persons.birth_date as _birth_date,
        parameters.minimum_age_years,
        measure_diagnosis_lines.claim_id is not null as has_diagnosis,
        coalesce(claims.hcpcs_code = parameters.discharge_code, false) as is_discharge,
        initial_evaluation_codes.hcpcs_code is not null as is_initial_evaluation_code,
        {#- the same completed-years rule as measure 459: born on 29 February -> a year older on 1 March -#}
        {{ age_in_years('persons.birth_date', 'claims.service_date') }} as age_years
    from claims
    inner join parameters
        on cast(extract(year from claims.service_date) as integer) = parameters.performance_year
    left join measure_diagnosis_lines
        on parameters.measure_id = measure_diagnosis_lines.measure_id
        and claims.claim_id = measure_diagnosis_lines.claim_id
        and claims.claim_line_number = measure_diagnosis_lines.claim_line_number
        and claims.claim_key = measure_diagnosis_lines.claim_key
    left join initial_evaluation_codes
        on claims.hcpcs_code = initial_evaluation_codes.hcpcs_code
        and parameters.initial_evaluation_value_set = initial_evaluation_codes.value_set
        and {{ year_in_range('parameters.value_set_year', 'initial_evaluation_codes.performance_year_from',
                             'initial_evaluation_codes.performance_year_to') }}
    left join persons
        on claims.person_id = persons.person_id

),

visits as (

    select *
    from lines
    where has_diagnosis or is_discharge

)

select
    measure_id,
    claim_id,
    claim_line_number,
    claim_key,
    person_id,
    service_date,
    hcpcs_code,
    rendering_tin,
    rendering_npi,
    age_years,
    has_diagnosis,
    is_discharge,
    coalesce(
        is_initial_evaluation_code and has_diagnosis and age_years >= minimum_age_years, false
    ) as is_episode_start,
    _birth_date,
    _delivery,
    _loaded_at,
    {{ reference }} as _reference_digest,
    false as _deleted
from visits
{{ claim_reader_deletions('visits', ['measure_id', 'claim_id', 'claim_line_number', 'claim_key'],
                          ['person_id', 'service_date', 'hcpcs_code', 'rendering_tin', 'rendering_npi', 'age_years',
                           'has_diagnosis', 'is_discharge', 'is_episode_start', '_birth_date', '_delivery',
                           '_loaded_at', '_reference_digest']) }}
