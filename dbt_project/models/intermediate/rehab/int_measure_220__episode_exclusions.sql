{#- The exclusion facts of each episode: a degenerative neurological diagnosis (ALS/MS/Parkinson's) on any
    claim dated on or before the episode end, or M1122 / G9733 reported on a line dated inside the episode. -#}
with episodes as (

    select * from {{ ref('int_measure_220__episodes') }}

),

claims as (

    select * from {{ ref('stg_medical_claim') }}

),

diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }}

),

degenerative_diagnoses as (

    select * from {{ ref('degenerative_neuro_diagnoses') }}

),

parameters as (

    select * from {{ ref('measure_220_parameters') }}

),

degenerative_dates as (

    select
        diagnoses.person_id,
        min(diagnoses.service_date) as first_diagnosis_date
    from diagnoses
    inner join degenerative_diagnoses
        on diagnoses.diagnosis_code like {{ dbt.concat(['degenerative_diagnoses.diagnosis_code_prefix', "'%'"]) }}
    group by diagnoses.person_id

),

reported as (

    select
        episodes.episode_id,
        max(case when claims.hcpcs_code = parameters.degenerative_condition_code then 1 else 0 end)
            as has_m1122_reported,
        max(case when claims.hcpcs_code = parameters.unable_to_complete_code then 1 else 0 end)
            as has_g9733_reported
    from episodes
    cross join parameters
    inner join claims
        on episodes.person_id = claims.person_id
        and claims.service_date between episodes.start_date and episodes.end_date
        and claims.hcpcs_code in (parameters.degenerative_condition_code, parameters.unable_to_complete_code)
    group by episodes.episode_id

)

select
    episodes.episode_id,
    coalesce(degenerative_dates.first_diagnosis_date <= episodes.end_date, false) as has_degenerative_diagnosis,
    coalesce(reported.has_m1122_reported = 1, false) as has_m1122_reported,
    coalesce(reported.has_g9733_reported = 1, false) as has_g9733_reported
from episodes
left join degenerative_dates
    on episodes.person_id = degenerative_dates.person_id
left join reported
    on episodes.episode_id = reported.episode_id
