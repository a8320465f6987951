{#- Rehab measure cases (220): one per in-scope episode, with its outcome in the spec's order: not eligible (CMS
    does not define the measure in the episode's performance year, or no rehab_parameters row covers it) ->
    excluded (rehab_exclusions, lowest priority first: M1122 then G9733) -> pending (still open) -> not measured
    (no intake or discharge FS) -> residual >= residual_met_min met, else not met. The performance year is the
    year of the episode end; codes, thresholds and reasons come from that year's parameters. Age is part of the
    episode start. A TIN is in scope for a measure and performance year when one of its episodes ending that
    year has an intake FS, unless var measure_220_tins_in_scope lists the TINs (then those, for every rehab
    measure). -#}
{%- set tins_in_scope = run_var('measure_220_tins_in_scope') -%}
{%- set text = api.Column.translate_type("string") -%}

with episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

scores as (

    select * from {{ ref('int_rehab__episode_scores') }}

),

exclusions as (

    select * from {{ ref('int_rehab__episode_exclusions') }}

),

predictions as (

    select * from {{ ref('int_rehab__predicted') }}

),

parameters as (

    select * from {{ ref('int_rehab__parameters') }}

),

strata as (

    select distinct measure_id, stratum from {{ ref('measure_strata') }}

),

stratum_years as (

    select * from {{ ref('measure_stratum_years') }}

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
        measure_id,
        tin,
        performance_year
    from episode_years
    where tin in ({% for tin in tins_in_scope %}'{{ tin }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
    select distinct
        episode_years.measure_id,
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
        strata.stratum,
        scores.intake_fs,
        scores.intake_date,
        scores.discharge_fs,
        scores.discharge_date,
        scores.actual_change,
        scores.intake_window_start,
        scores.intake_window_end,
        scores.discharge_window_end,
        predictions.predicted_change,
        predictions.predictor,
        predictions.predictor_version,
        scores.actual_change - predictions.predicted_change as residual,
        exclusions.exclusion_code,
        exclusions.exclusion_reason,
        case
            when stratum_years.measure_id is null
                then {{ dbt.concat(["'no registry entry for measure '", "episode_years.measure_id", "' in PY'",
                                    dbt.cast("episode_years.performance_year", text)]) }}
            when stratum_years.not_eligible_reason is not null then stratum_years.not_eligible_reason
            when not parameters.is_specified
                then {{ dbt.concat(["'no rehab_parameters row of measure '", "episode_years.measure_id",
                                    "' covers PY'", dbt.cast("episode_years.performance_year", text)]) }}
        end as not_eligible_reason,
        parameters.discharge_code,
        parameters.pending_days,
        parameters.code_met,
        parameters.code_not_met,
        parameters.code_not_measured,
        parameters.residual_met_min
    from episode_years
    inner join tin_years_in_scope
        on episode_years.measure_id = tin_years_in_scope.measure_id
        and episode_years.tin = tin_years_in_scope.tin
        and episode_years.performance_year = tin_years_in_scope.performance_year
    inner join strata
        on episode_years.measure_id = strata.measure_id
    inner join parameters
        on episode_years.measure_id = parameters.measure_id
        and episode_years.performance_year = parameters.performance_year
    inner join scores
        on episode_years.episode_id = scores.episode_id
    inner join predictions
        on episode_years.episode_id = predictions.episode_id
    left join exclusions
        on episode_years.episode_id = exclusions.episode_id
    left join stratum_years
        on episode_years.measure_id = stratum_years.measure_id
        and strata.stratum = stratum_years.stratum
        and episode_years.performance_year = stratum_years.performance_year

),

outcomes as (

    select
        *,
        case
            when not_eligible_reason is not null then 'not_eligible'
            when exclusion_code is not null then 'excluded'
            when end_reason = 'open' then 'pending'
            when intake_fs is null or discharge_fs is null then 'not_measured'
            when residual is null then 'pending'
            when residual >= residual_met_min then 'met'
            else 'not_met'
        end as status
    from joined

)

select
    {{ dbt.hash(dbt.concat([
        'person_id', "'|'", 'measure_id', "'|'", 'stratum', "'|'",
        dbt.cast('start_date', text)
    ])) }} as case_id,
    person_id,
    measure_id,
    stratum,
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
    -- a residual is reported only where it decides the code (met / not met); other cases carry none
    case when status in ('met', 'not_met') then residual end as residual,
    status,
    case status
        when 'excluded' then exclusion_code
        when 'not_measured' then code_not_measured
        when 'met' then code_met
        when 'not_met' then code_not_met
    end as qdc_code,
    case
        when status = 'not_eligible' then not_eligible_reason
        when status = 'excluded' then exclusion_reason
        when status = 'pending' and end_reason = 'open' then {{ dbt.concat([
            "'episode still open: no '", "discharge_code", "' line and the last visit ('", dbt.cast("end_date", text),
            "') within '", dbt.cast("pending_days", text), "' days of the as-of date'"]) }}
        when status = 'pending' then 'no predicted change: no vendor prediction and no open risk model version'
        when intake_fs is null and discharge_fs is null then {{ dbt.concat([
            "'no intake FS score from '", dbt.cast("intake_window_start", text), "' to '",
            dbt.cast("intake_window_end", text), "' and no discharge FS score'"]) }}
        when intake_fs is null then {{ dbt.concat([
            "'no intake FS score from '", dbt.cast("intake_window_start", text), "' to '",
            dbt.cast("intake_window_end", text)]) }}
        when discharge_fs is null then {{ dbt.concat([
            "'no discharge FS score after the intake ('", dbt.cast("intake_date", text), "') and by '",
            dbt.cast("discharge_window_end", text)]) }}
        when status = 'met' then {{ dbt.concat([
            "'residual '", dbt.cast("residual", text), "' >= '", dbt.cast("residual_met_min", text)]) }}
        else {{ dbt.concat(["'residual '", dbt.cast("residual", text), "' < '", dbt.cast("residual_met_min", text)]) }}
    end as reason,
    performance_year,
    tin,
    rendering_npi
from outcomes
