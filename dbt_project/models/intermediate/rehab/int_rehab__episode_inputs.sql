{#- The facts about each episode that the open risk model's terms are computed from (risk_model_terms names the
    input column each term reads): intake FS, age at the start, sex, payer type, acuity (days from the first
    diagnosis of the measure's set to the start), a prior lumbar surgery, the count of comorbidity categories.
    Lookbacks come from the parameters of the episode's performance year. is_reference marks the episodes a
    default fit uses: closed, scored (intake and discharge FS) and not excluded. Not downstream of the
    risk_model source: the fit (orchestration/assets/risk_model.py) reads this model. -#}
with episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

scores as (

    select * from {{ ref('int_rehab__episode_scores') }}

),

exclusions as (

    select * from {{ ref('int_rehab__episode_exclusions') }}

),

visit_lines as (

    select * from {{ ref('int_rehab__visit_lines') }}

),

persons as (

    select * from {{ ref('stg_person') }}

),

claims as (

    select * from {{ ref('stg_medical_claim') }}

),

diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }}

),

procedure_value_sets as (

    select distinct value_set, code from {{ ref('procedure_value_sets') }}

),

comorbidity_categories as (

    select * from {{ ref('comorbidity_categories') }}

),

parameters as (

    select * from {{ ref('int_rehab__parameters') }}

),

episode_parameters as (

    select
        episodes.*,
        parameters.prior_surgery_value_sets,
        parameters.prior_surgery_lookback_years,
        parameters.comorbidity_lookback_months
    from episodes
    inner join parameters
        on episodes.measure_id = parameters.measure_id
        and cast(extract(year from episodes.end_date) as integer) = parameters.performance_year

),

start_ages as (

    select
        measure_id,
        person_id,
        service_date,
        max(age_years) as age_years
    from visit_lines
    where is_episode_start
    group by measure_id, person_id, service_date

),

first_diagnosis_visits as (

    select
        measure_id,
        person_id,
        min(service_date) as first_diagnosis_date
    from visit_lines
    where has_diagnosis
    group by measure_id, person_id

),

prior_surgeries as (

    select distinct episode_parameters.episode_id
    from episode_parameters
    inner join claims
        on episode_parameters.person_id = claims.person_id
        and claims.service_date < episode_parameters.start_date
        and claims.service_date
            >= {{ dbt.dateadd('year', '-1 * episode_parameters.prior_surgery_lookback_years',
                              'episode_parameters.start_date') }}
    inner join procedure_value_sets
        on claims.hcpcs_code = procedure_value_sets.code
        and {{ dbt.position(dbt.concat(["'|'", 'procedure_value_sets.value_set', "'|'"]),
                            dbt.concat(["'|'", 'episode_parameters.prior_surgery_value_sets', "'|'"])) }} > 0

),

comorbidities as (

    select
        episode_parameters.episode_id,
        count(distinct comorbidity_categories.category) as comorbidity_count
    from episode_parameters
    inner join diagnoses
        on episode_parameters.person_id = diagnoses.person_id
        and diagnoses.service_date <= episode_parameters.start_date
        and diagnoses.service_date
            >= {{ dbt.dateadd('month', '-1 * episode_parameters.comorbidity_lookback_months',
                              'episode_parameters.start_date') }}
    inner join comorbidity_categories
        on diagnoses.diagnosis_code like {{ dbt.concat(['comorbidity_categories.diagnosis_code_prefix', "'%'"]) }}
    group by episode_parameters.episode_id

)

select
    episode_parameters.episode_id,
    episode_parameters.measure_id,
    episode_parameters.end_date,
    episode_parameters.end_reason <> 'open' and scores.intake_fs is not null and scores.actual_change is not null
        and exclusions.episode_id is null as is_reference,
    scores.actual_change,
    scores.intake_fs,
    start_ages.age_years,
    persons.sex,
    persons.payer_type,
    {{ dbt.datediff('first_diagnosis_visits.first_diagnosis_date', 'episode_parameters.start_date', 'day') }}
        as acuity_days,
    case when prior_surgeries.episode_id is not null then 1 else 0 end as prior_lumbar_surgery,
    coalesce(comorbidities.comorbidity_count, 0) as comorbidity_count
from episode_parameters
inner join scores
    on episode_parameters.episode_id = scores.episode_id
inner join start_ages
    on episode_parameters.measure_id = start_ages.measure_id
    and episode_parameters.person_id = start_ages.person_id
    and episode_parameters.start_date = start_ages.service_date
inner join first_diagnosis_visits
    on episode_parameters.measure_id = first_diagnosis_visits.measure_id
    and episode_parameters.person_id = first_diagnosis_visits.person_id
left join exclusions
    on episode_parameters.episode_id = exclusions.episode_id
left join persons
    on episode_parameters.person_id = persons.person_id
left join prior_surgeries
    on episode_parameters.episode_id = prior_surgeries.episode_id
left join comorbidities
    on episode_parameters.episode_id = comorbidities.episode_id
