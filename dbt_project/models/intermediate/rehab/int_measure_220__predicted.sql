{#- The predicted FS change of each episode: the vendor's prediction dated with the intake FS when delivered,
    otherwise the open risk model applied in SQL. The model version is the latest in risk_model.coefficients
    unless var risk_model_version pins one. The term list is the risk_model_terms seed's (intercept aside);
    the fit refuses a feature model that lacks one. A term absent from a pinned older version counts 0 (that
    version did not use it); without any version the open-model prediction is null. -#}
{%- set terms = [
    'intake_fs', 'age_band_45_64', 'age_band_65_74', 'age_band_75_plus', 'sex_male', 'acuity_22_90',
    'acuity_over_90', 'prior_lumbar_surgery', 'comorbidity_count', 'payer_medicare',
    'payer_medicare_advantage', 'payer_medicaid', 'payer_self_pay'
] -%}
{%- set pinned_version = run_var('risk_model_version') -%}

with coefficients as (

    select * from {{ source('risk_model', 'coefficients') }}

),

features as (

    select * from {{ ref('int_measure_220__episode_features') }}

),

scores as (

    select * from {{ ref('int_measure_220__episode_scores') }}

),

parameters as (

    select * from {{ ref('measure_220_parameters') }}

),

chosen_version as (

    select
        {% if pinned_version is not none -%}
        cast({{ pinned_version }} as integer)
        {%- else -%}
        max(version)
        {%- endif %} as version
    from coefficients

),

model as (

    select
        coefficients.version,
        max(case when coefficients.term = 'intercept' then coefficients.coefficient end) as b_intercept
        {%- for term in terms %},
        max(case when coefficients.term = '{{ term }}' then coefficients.coefficient end) as b_{{ term }}
        {%- endfor %}
    from coefficients
    inner join chosen_version
        on coefficients.version = chosen_version.version
    group by coefficients.version

),

open_model as (

    select
        features.episode_id,
        {{ dbt.cast('model.version', api.Column.translate_type('string')) }} as model_version,
        cast(round(
            model.b_intercept
            {%- for term in terms %}
            + coalesce(model.b_{{ term }}, 0) * features.{{ term }}
            {%- endfor %}
        , 3) as decimal(9, 3)) as predicted_change
    from features
    left join model
        on 1 = 1

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
cross join parameters
left join open_model
    on scores.episode_id = open_model.episode_id
