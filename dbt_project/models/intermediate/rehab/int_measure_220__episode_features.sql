{#- The open risk model's inputs: one row per episode with its intake FS, actual change and one column per
    term of the risk_model_terms seed (intercept aside). Not downstream of the risk_model source: the fit
    (orchestration/assets/risk_model.py) reads this model. is_reference marks the episodes a default fit
    uses: closed, scored (intake and discharge FS) and not excluded. -#}
with episodes as (

    select * from {{ ref('int_measure_220__episodes') }}

),

scores as (

    select * from {{ ref('int_measure_220__episode_scores') }}

),

exclusions as (

    select * from {{ ref('int_measure_220__episode_exclusions') }}

),

visit_lines as (

    select * from {{ ref('int_measure_220__visit_lines') }}

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

    select * from {{ ref('procedure_value_sets') }}

),

comorbidity_categories as (

    select * from {{ ref('comorbidity_categories') }}

),

parameters as (

    select * from {{ ref('measure_220_parameters') }}

),

start_ages as (

    select
        person_id,
        service_date,
        max(age_years) as age_years
    from visit_lines
    where is_episode_start
    group by person_id, service_date

),

first_low_back_visits as (

    select
        person_id,
        min(service_date) as first_low_back_date
    from visit_lines
    where has_low_back_diagnosis
    group by person_id

),

prior_surgeries as (

    select distinct episodes.episode_id
    from episodes
    cross join parameters
    inner join claims
        on episodes.person_id = claims.person_id
        and claims.service_date < episodes.start_date
        and claims.service_date
            >= {{ dbt.dateadd('year', '-1 * parameters.prior_surgery_lookback_years', 'episodes.start_date') }}
    inner join procedure_value_sets
        on claims.hcpcs_code = procedure_value_sets.code
        and {{ dbt.position(dbt.concat(["'|'", 'procedure_value_sets.value_set', "'|'"]),
                            dbt.concat(["'|'", 'parameters.prior_surgery_value_sets', "'|'"])) }} > 0

),

comorbidities as (

    select
        episodes.episode_id,
        count(distinct comorbidity_categories.category) as comorbidity_count
    from episodes
    cross join parameters
    inner join diagnoses
        on episodes.person_id = diagnoses.person_id
        and diagnoses.service_date <= episodes.start_date
        and diagnoses.service_date
            >= {{ dbt.dateadd('month', '-1 * parameters.comorbidity_lookback_months', 'episodes.start_date') }}
    inner join comorbidity_categories
        on diagnoses.diagnosis_code like {{ dbt.concat(['comorbidity_categories.diagnosis_code_prefix', "'%'"]) }}
    group by episodes.episode_id

),

joined as (

    select
        episodes.episode_id,
        episodes.end_date,
        episodes.end_reason,
        scores.intake_fs,
        scores.actual_change,
        start_ages.age_years,
        persons.sex,
        persons.payer_type,
        {{ dbt.datediff('first_low_back_visits.first_low_back_date', 'episodes.start_date', 'day') }}
            as acuity_days,
        prior_surgeries.episode_id is not null as has_prior_surgery,
        coalesce(comorbidities.comorbidity_count, 0) as comorbidity_count,
        exclusions.has_degenerative_diagnosis or exclusions.has_m1122_reported or exclusions.has_g9733_reported
            as is_excluded,
        parameters.age_band_45_lower,
        parameters.age_band_65_lower,
        parameters.age_band_75_lower,
        parameters.acuity_short_max_days,
        parameters.acuity_medium_max_days
    from episodes
    cross join parameters
    inner join scores
        on episodes.episode_id = scores.episode_id
    inner join exclusions
        on episodes.episode_id = exclusions.episode_id
    inner join start_ages
        on episodes.person_id = start_ages.person_id
        and episodes.start_date = start_ages.service_date
    inner join first_low_back_visits
        on episodes.person_id = first_low_back_visits.person_id
    left join persons
        on episodes.person_id = persons.person_id
    left join prior_surgeries
        on episodes.episode_id = prior_surgeries.episode_id
    left join comorbidities
        on episodes.episode_id = comorbidities.episode_id

)

select
    episode_id,
    end_date,
    end_reason <> 'open' and intake_fs is not null and actual_change is not null and not is_excluded
        as is_reference,
    actual_change,
    intake_fs,
    case when age_years >= age_band_45_lower and age_years < age_band_65_lower then 1 else 0 end
        as age_band_45_64,
    case when age_years >= age_band_65_lower and age_years < age_band_75_lower then 1 else 0 end
        as age_band_65_74,
    case when age_years >= age_band_75_lower then 1 else 0 end as age_band_75_plus,
    case when sex = 'male' then 1 else 0 end as sex_male,
    case when acuity_days > acuity_short_max_days and acuity_days <= acuity_medium_max_days then 1 else 0 end
        as acuity_22_90,
    case when acuity_days > acuity_medium_max_days then 1 else 0 end as acuity_over_90,
    case when has_prior_surgery then 1 else 0 end as prior_lumbar_surgery,
    comorbidity_count,
    case when payer_type = 'medicare' then 1 else 0 end as payer_medicare,
    case when payer_type = 'medicare_advantage' then 1 else 0 end as payer_medicare_advantage,
    case when payer_type = 'medicaid' then 1 else 0 end as payer_medicaid,
    case when payer_type = 'self_pay' then 1 else 0 end as payer_self_pay
from joined
