{#- Measure 220 cases: one per in-scope episode, with its outcome in the spec's order: M1122 (degenerative
    diagnosis on or before the end, or M1122 reported) -> G9733 reported -> pending (still open) -> G8662 (no
    intake or discharge FS) -> residual >= 0 G8659, else G8660. Age is part of the episode start. A TIN is in
    scope for a performance year when one of its episodes ending that year has an intake FS, unless var
    measure_220_tins_in_scope lists the TINs. -#}
{%- set tins_in_scope = run_var('measure_220_tins_in_scope') -%}

with episodes as (

    select * from {{ ref('int_measure_220__episodes') }}

),

scores as (

    select * from {{ ref('int_measure_220__episode_scores') }}

),

exclusions as (

    select * from {{ ref('int_measure_220__episode_exclusions') }}

),

predictions as (

    select * from {{ ref('int_measure_220__predicted') }}

),

parameters as (

    select * from {{ ref('measure_220_parameters') }}

),

episode_years as (

    select
        episodes.*,
        cast(extract(year from episodes.end_date) as integer) as performance_year
    from episodes

),

tin_years_in_scope as (

    {% if tins_in_scope | length > 0 -%}
    select distinct
        tin,
        performance_year
    from episode_years
    where tin in ({% for tin in tins_in_scope %}'{{ tin }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
    select distinct
        episode_years.tin,
        episode_years.performance_year
    from episode_years
    inner join scores
        on episode_years.episode_id = scores.episode_id
    where scores.intake_fs is not null
    {%- endif %}

),

joined as (

    select
        episode_years.*,
        scores.intake_fs,
        scores.intake_date,
        scores.discharge_fs,
        scores.discharge_date,
        scores.actual_change,
        predictions.predicted_change,
        predictions.predictor,
        predictions.predictor_version,
        scores.actual_change - predictions.predicted_change as residual,
        exclusions.has_degenerative_diagnosis,
        exclusions.has_m1122_reported,
        exclusions.has_g9733_reported,
        parameters.measure_id,
        parameters.degenerative_condition_code,
        parameters.unable_to_complete_code,
        parameters.code_met,
        parameters.code_not_met,
        parameters.code_not_measured,
        parameters.residual_met_min
    from episode_years
    cross join parameters
    inner join tin_years_in_scope
        on episode_years.tin = tin_years_in_scope.tin
        and episode_years.performance_year = tin_years_in_scope.performance_year
    inner join scores
        on episode_years.episode_id = scores.episode_id
    inner join exclusions
        on episode_years.episode_id = exclusions.episode_id
    inner join predictions
        on episode_years.episode_id = predictions.episode_id

),

outcomes as (

    select
        *,
        case
            when has_degenerative_diagnosis or has_m1122_reported then 'excluded'
            when has_g9733_reported then 'excluded'
            when end_reason = 'open' then 'pending'
            when intake_fs is null or discharge_fs is null then 'not_measured'
            when residual is null then 'pending'
            when residual >= residual_met_min then 'met'
            else 'not_met'
        end as status,
        case
            when has_degenerative_diagnosis or has_m1122_reported then degenerative_condition_code
            when has_g9733_reported then unable_to_complete_code
            when end_reason = 'open' then null
            when intake_fs is null or discharge_fs is null then code_not_measured
            when residual is null then null
            when residual >= residual_met_min then code_met
            else code_not_met
        end as qdc_code,
        case
            when has_degenerative_diagnosis then 'degenerative neurological condition (ALS/MS/Parkinson''s) diagnosed on or before the episode end'
            when has_m1122_reported then 'M1122 reported during the episode'
            when has_g9733_reported then 'G9733 reported during the episode: unable to complete the FS PROM, no proxy'
            when end_reason = 'open' then 'episode still open: no M1012 and last visit within the gap of the as-of date'
            when intake_fs is null and discharge_fs is null then 'no intake and no discharge FS score'
            when intake_fs is null then 'no intake FS score within the intake window'
            when discharge_fs is null then 'no discharge FS score after the intake and by the discharge window'
            when residual is null then 'no predicted change: no vendor prediction and no open risk model version'
            when residual >= residual_met_min then 'residual at or above zero'
            else 'residual below zero'
        end as reason
    from joined

)

select
    {{ dbt.hash(dbt.concat([
        'person_id', "'|'", 'measure_id', "'|'", "'overall'", "'|'",
        dbt.cast('start_date', api.Column.translate_type('string'))
    ])) }} as case_id,
    person_id,
    measure_id,
    cast('overall' as {{ dbt.type_string() }}) as stratum,
    start_date as index_date,
    end_date as episode_end_date,
    start_date as window_start,
    end_date as window_end,
    intake_fs as pre_score,
    intake_date as pre_score_date,
    discharge_fs as post_score,
    discharge_date as post_score_date,
    cast(null as decimal(9, 3)) as improvement,
    actual_change,
    predicted_change,
    predictor,
    predictor_version,
    -- a residual is reported only where it decides the code (G8659 / G8660); excluded and open episodes carry none
    case when status in ('met', 'not_met') then residual end as residual,
    status,
    qdc_code,
    reason,
    performance_year,
    tin,
    rendering_npi
from outcomes
