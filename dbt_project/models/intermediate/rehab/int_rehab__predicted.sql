{#- The predicted FS change of each episode: the vendor's prediction dated with the intake FS when delivered,
    otherwise the open risk model applied in SQL: the sum over the episode's terms (int_rehab__episode_features,
    the intercept included as a constant term) of value x coefficient. The model version is the latest of the
    episode's measure in risk_model.coefficients unless var risk_model_version pins one. A term absent from the
    version counts 0 (that version did not use it); a term whose value is missing leaves no prediction; without
    any version of the measure the open-model prediction is null. -#}
{%- set pinned_version = run_var('risk_model_version') -%}

with coefficients as (

    select * from {{ source('risk_model', 'coefficients') }}

),

features as (

    select * from {{ ref('int_rehab__episode_features') }}

),

episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

scores as (

    select * from {{ ref('int_rehab__episode_scores') }}

),

parameters as (

    select * from {{ ref('int_rehab__parameters') }}

),

chosen_versions as (

    select
        measure_id,
        {% if pinned_version is not none -%}
        cast({{ pinned_version }} as integer)
        {%- else -%}
        max(version)
        {%- endif %} as version
    from coefficients
    group by measure_id

),

model as (

    select coefficients.*
    from coefficients
    inner join chosen_versions
        on coefficients.measure_id = chosen_versions.measure_id
        and coefficients.version = chosen_versions.version

),

open_model as (

    select
        features.episode_id,
        {{ dbt.cast('max(model.version)', api.Column.translate_type('string')) }} as model_version,
        case
            when count(case when features.value is null then 1 end) = 0
                then cast(round(sum(model.coefficient * features.value), 3) as decimal(9, 3))
        end as predicted_change
    from features
    inner join model
        on features.measure_id = model.measure_id
        and features.term = model.term
    group by features.episode_id

)

select
    scores.episode_id,
    coalesce(scores.vendor_predicted_change, open_model.predicted_change) as predicted_change,
    case
        when scores.vendor_predicted_change is not null then 'vendor'
        when open_model.predicted_change is not null then 'open_model'
    end as predictor,
    case
        when scores.vendor_predicted_change is not null then parameters.vendor_predictor_version
        when open_model.predicted_change is not null then open_model.model_version
    end as predictor_version
from scores
inner join episodes
    on scores.episode_id = episodes.episode_id
inner join parameters
    on episodes.measure_id = parameters.measure_id
    and cast(extract(year from episodes.end_date) as integer) = parameters.performance_year
left join open_model
    on scores.episode_id = open_model.episode_id
