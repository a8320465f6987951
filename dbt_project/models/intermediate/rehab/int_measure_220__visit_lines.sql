{#- Measure 220 visits: claim lines with a low back diagnosis in any position, plus every M1012 line whatever
    its diagnosis. Lines for other reasons are not visits and never extend an episode. -#}
with claims as (

    select * from {{ ref('stg_medical_claim') }}

),

diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }}

),

persons as (

    select * from {{ ref('stg_person') }}

),

low_back_diagnoses as (

    select * from {{ ref('low_back_diagnoses') }}

),

initial_evaluation_codes as (

    select * from {{ ref('initial_evaluation_codes') }}

),

parameters as (

    select * from {{ ref('measure_220_parameters') }}

),

low_back_lines as (

    select distinct
        diagnoses.claim_id,
        diagnoses.claim_line_number
    from diagnoses
    inner join low_back_diagnoses
        on diagnoses.diagnosis_code like {{ dbt.concat(['low_back_diagnoses.diagnosis_code_prefix', "'%'"]) }}

),

lines as (

    select
        claims.claim_id,
        claims.claim_line_number,
        claims.person_id,
        claims.service_date,
        claims.hcpcs_code,
        claims.rendering_tin,
        claims.rendering_npi,
        persons.birth_date,
        parameters.minimum_age_years,
        low_back_lines.claim_id is not null as has_low_back_diagnosis,
        coalesce(claims.hcpcs_code = parameters.discharge_code, false) as is_discharge,
        initial_evaluation_codes.hcpcs_code is not null as is_initial_evaluation_code,
        {#- the same completed-years rule as measure 459: born on 29 February -> a year older on 1 March -#}
        {{ age_in_years('persons.birth_date', 'claims.service_date') }} as age_years
    from claims
    cross join parameters
    left join low_back_lines
        on claims.claim_id = low_back_lines.claim_id
        and claims.claim_line_number = low_back_lines.claim_line_number
    left join initial_evaluation_codes
        on claims.hcpcs_code = initial_evaluation_codes.hcpcs_code
    left join persons
        on claims.person_id = persons.person_id

),

visits as (

    select *
    from lines
    where has_low_back_diagnosis or is_discharge

)

select
    claim_id,
    claim_line_number,
    person_id,
    service_date,
    hcpcs_code,
    rendering_tin,
    rendering_npi,
    age_years,
    has_low_back_diagnosis,
    is_discharge,
    coalesce(
        is_initial_evaluation_code and has_low_back_diagnosis and age_years >= minimum_age_years, false
    ) as is_episode_start
from visits
