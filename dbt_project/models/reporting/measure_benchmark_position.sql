{#- Where each entity's overall performance rate (stratum 'all' of measure_performance, exact) falls against
    CMS's benchmark for its measure, performance year and the publication's submission method, and the
    achievement points it would earn (docs/benchmark_position.md has the rules and their sources).
    Decile - the highest decile whose inclusive lower bound the rate reaches (decile 1 from 0; an inverse
    measure mirrors the comparisons). Points - decile 10 earns the maximum; another decile d earns d plus the
    share of the decile's range the rate has covered, truncated to 2 decimals; then the year's floor and, for a
    benchmark topped out by program, its cap. position_status says why a row has no position, in this order -
    not_computed (the overall algorithm), no_benchmark (position_note - CMS's reason), below_case_minimum
    (fewer than benchmark_min_cases eligible cases; no rate shown either). The publisher hides the rate, decile
    and points where the published rate is suppressed (status rate_suppressed). Grain - one row per
    measure_id, performance_year, entity_level (tin, tin_npi), tin and rendering_npi with eligible cases. -#}
{%- set min_cases = publication_parameter('benchmark_min_cases', dbt.type_int()) -%}
{%- set method = publication_parameter('qpp_submission_method', dbt.type_string()) -%}
with entities as (

    select
        measure_id,
        performance_year,
        entity_level,
        tin,
        rendering_npi,
        eligible_population,
        performance_rate_pct,
        100.0 * met / eligible_population as exact_rate,
        row_number() over (order by measure_id, performance_year, entity_level, tin, rendering_npi) as entity_row
    from {{ ref('measure_performance') }}
    where entity_level <> 'all'
        and stratum = 'all'
        and eligible_population > 0

),

measure_years as (

    select
        measure_id,
        performance_year,
        max(metric_type) as metric_type,
        max(overall_algorithm) as overall_algorithm
    from {{ ref('measure_stratum_years') }}
    where not_eligible_reason is null
    group by measure_id, performance_year

),

benchmarks as (

    select *
    from {{ ref('qpp_benchmarks') }}
    where submission_method = {{ method }}

),

deciles as (

    select *
    from {{ ref('qpp_benchmark_deciles') }}
    where submission_method = {{ method }}

),

{#- decile = 1 + the number of lower bounds the rate reaches (an inverse measure - stays at or under) -#}
placed as (

    select
        entities.entity_row,
        cast(1 + count_if(
            case when coalesce(benchmarks.is_inverse, false) then entities.exact_rate <= deciles.lower_bound
                 else entities.exact_rate >= deciles.lower_bound end
        ) as {{ dbt.type_bigint() }}) as decile,
        count(deciles.decile) > 0 as has_deciles
    from entities
    inner join benchmarks
        on entities.measure_id = benchmarks.measure_id
        and entities.performance_year = benchmarks.performance_year
    left join deciles
        on entities.measure_id = deciles.measure_id
        and entities.performance_year = deciles.performance_year
    group by entities.entity_row

),

joined as (

    select
        entities.*,
        measure_years.overall_algorithm,
        benchmarks.has_benchmark,
        benchmarks.benchmark_year,
        coalesce(benchmarks.is_inverse, false) as is_inverse,
        coalesce(benchmarks.is_topped_out_by_program, false) as is_topped_out_by_program,
        benchmarks.reason_codes,
        benchmarks.reason_descriptions,
        case when placed.has_deciles then placed.decile end as decile,
        scoring.minimum_points,
        scoring.maximum_points,
        scoring.topped_out_by_program_cap
    from entities
    left join measure_years
        on entities.measure_id = measure_years.measure_id
        and entities.performance_year = measure_years.performance_year
    left join benchmarks
        on entities.measure_id = benchmarks.measure_id
        and entities.performance_year = benchmarks.performance_year
    left join placed
        on entities.entity_row = placed.entity_row
    left join {{ ref('qpp_scoring_rules') }} as scoring
        on {{ year_in_range('entities.performance_year', 'scoring.performance_year_from', 'scoring.performance_year_to') }}

),

scored as (

    select
        joined.*,
        coalesce(decile_start.lower_bound, case when joined.is_inverse then 100.0 else 0.0 end) as decile_start,
        next_decile.lower_bound as next_decile_start
    from joined
    left join deciles as decile_start
        on joined.measure_id = decile_start.measure_id
        and joined.performance_year = decile_start.performance_year
        and joined.decile = decile_start.decile
    left join deciles as next_decile
        on joined.measure_id = next_decile.measure_id
        and joined.performance_year = next_decile.performance_year
        and joined.decile + 1 = next_decile.decile

),

positioned as (

    select
        *,
        case
            when overall_algorithm is not null and overall_algorithm <> 'weightedAverage' then 'not_computed'
            when not coalesce(has_benchmark, false) then 'no_benchmark'
            when eligible_population < {{ min_cases }} then 'below_case_minimum'
            else 'positioned'
        end as position_status,
        case
            when decile = 10 then maximum_points
            else decile + floor(100 * (exact_rate - decile_start) / (next_decile_start - decile_start)) / 100
        end as raw_points
    from scored

)

select
    measure_id,
    performance_year,
    entity_level,
    tin,
    rendering_npi,
    {{ method }} as submission_method,
    case
        when position_status = 'positioned'
            or (position_status = 'no_benchmark' and eligible_population >= {{ min_cases }})
            then performance_rate_pct
    end as performance_rate_pct,
    case when position_status = 'positioned' then benchmark_year end as benchmark_year,
    case when position_status = 'positioned' then decile end as decile,
    cast(
        case when position_status = 'positioned' then
            least(greatest(raw_points, minimum_points),
                  case when is_topped_out_by_program then topped_out_by_program_cap else maximum_points end)
        end as decimal(4, 2)
    ) as achievement_points,
    case
        when has_benchmark then {{ dbt.concat([
            "'CMS benchmark of PY'", dbt.cast('performance_year', dbt.type_string()), "' ('", method,
            "', benchmark year '", dbt.cast('benchmark_year', dbt.type_string()), "')'"]) }}
        else coalesce(
            {{ dbt.concat(["'no CMS benchmark: '", 'reason_codes', "' - '", 'reason_descriptions']) }},
            {{ dbt.concat(["'no CMS benchmark published for PY'", dbt.cast('performance_year', dbt.type_string()),
                           "' ('", method, "')'"]) }}
        )
    end as benchmark,
    position_status,
    case position_status
        when 'below_case_minimum' then {{ dbt.concat(["'fewer than '", dbt.cast(min_cases, dbt.type_string()),
                                                      "' eligible cases'"]) }}
        when 'not_computed' then {{ dbt.concat(["'overall algorithm '", 'overall_algorithm', "' is not computed'"]) }}
        when 'no_benchmark' then 'CMS publishes no benchmark for this measure and year'
    end as position_note
from positioned
