{#- The outcome of every pre/post score-pair case (measures 459, 461, 471), in the specification's order:
    not eligible (CMS does not define the measure stratum in the case's performance year, or computes it as a
    metric type the pipeline does not: measure_stratum_years; or no pairs_parameters row covers the year) ->
    excluded -> pending (window still open on the as-of date and no post-op score yet) -> not measured
    (no post-op score) -> met (post-op <= met_post_max) -> met (pre-op present and pre - post >=
    met_improvement_min) -> not met. Scores and improvement are exact decimals. Columns are those of
    measure_cases. Grain - one row per case_id. -#}
{%- set as_of = "cast('" ~ run_var('as_of_date') ~ "' as date)" -%}
{%- set text = api.Column.translate_type("string") -%}
with cases as (

    select * from {{ ref('int_pairs__surgical_cases') }}

),

exclusions as (

    select * from {{ ref('int_pairs__exclusions') }}

),

pre_scores as (

    select * from {{ ref('int_pairs__pre_scores') }}

),

post_scores as (

    select * from {{ ref('int_pairs__post_scores') }}

),

stratum_years as (

    select * from {{ ref('measure_stratum_years') }}

),

joined as (

    select
        cases.*,
        case
            when stratum_years.measure_id is null
                then {{ dbt.concat(["'no registry entry for measure '", "cases.measure_id", "' stratum '",
                                    "cases.stratum", "' in PY'", dbt.cast("cases.performance_year", text)]) }}
            when stratum_years.not_eligible_reason is not null then stratum_years.not_eligible_reason
            when not cases.is_specified
                then {{ dbt.concat(["'no pairs_parameters row of measure '", "cases.measure_id", "' stratum '",
                                    "cases.stratum", "' covers PY'", dbt.cast("cases.performance_year", text)]) }}
        end as not_eligible_reason,
        exclusions.exclusion_reason,
        pre_scores.pre_score,
        pre_scores.pre_score_date,
        post_scores.post_score,
        post_scores.post_score_date,
        cast(pre_scores.pre_score - post_scores.post_score as decimal(9, 3)) as improvement
    from cases
    left join exclusions
        on cases.case_id = exclusions.case_id
    left join pre_scores
        on cases.case_id = pre_scores.case_id
    left join post_scores
        on cases.case_id = post_scores.case_id
    left join stratum_years
        on cases.measure_id = stratum_years.measure_id
        and cases.stratum = stratum_years.stratum
        and cases.performance_year = stratum_years.performance_year

),

classified as (

    select
        *,
        case
            when not_eligible_reason is not null then 'not_eligible'
            when exclusion_reason is not null then 'excluded'
            when post_score is null and {{ as_of }} < window_end then 'pending'
            when post_score is null then 'not_measured'
            when post_score <= met_post_max then 'met'
            when improvement >= met_improvement_min then 'met'
            else 'not_met'
        end as status
    from joined

)

select
    case_id,
    person_id,
    measure_id,
    stratum,
    index_date,
    cast(null as date) as episode_end_date,
    window_start,
    window_end,
    pre_score,
    pre_score_date,
    post_score,
    post_score_date,
    improvement,
    cast(null as decimal(9, 3)) as actual_change,
    cast(null as decimal(9, 3)) as predicted_change,
    cast(null as {{ text }}) as predictor,
    cast(null as {{ text }}) as predictor_version,
    cast(null as decimal(9, 3)) as residual,
    status,
    case status
        when 'excluded' then code_excluded
        when 'not_measured' then code_not_measured
        when 'met' then code_met
        when 'not_met' then code_not_met
    end as qdc_code,
    case
        when status = 'not_eligible' then not_eligible_reason
        when status = 'excluded' then exclusion_reason
        when status = 'pending' then {{ dbt.concat([
            "'no post-op score yet; follow-up window open until '", dbt.cast("window_end", text),
            "' (as of '", dbt.cast(as_of, text), "')'"]) }}
        when status = 'not_measured' then {{ dbt.concat([
            "'no post-op score in the follow-up window '", dbt.cast("window_start", text), "'..'",
            dbt.cast("window_end", text)]) }}
        when status = 'met' and post_score <= met_post_max then {{ dbt.concat([
            "'post-op score '", dbt.cast("post_score", text), "' <= '", dbt.cast("met_post_max", text)]) }}
        when status = 'met' then {{ dbt.concat([
            "'improvement '", dbt.cast("improvement", text), "' (pre-op '", dbt.cast("pre_score", text),
            "', post-op '", dbt.cast("post_score", text), "') >= '", dbt.cast("met_improvement_min", text)]) }}
        when pre_score is null then {{ dbt.concat([
            "'post-op score '", dbt.cast("post_score", text), "' > '", dbt.cast("met_post_max", text),
            "' and no pre-op score'"]) }}
        else {{ dbt.concat([
            "'post-op score '", dbt.cast("post_score", text), "' > '", dbt.cast("met_post_max", text),
            "' and improvement '", dbt.cast("improvement", text), "' < '", dbt.cast("met_improvement_min", text)]) }}
    end as reason,
    performance_year,
    tin,
    rendering_npi
from classified
