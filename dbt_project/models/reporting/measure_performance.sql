{#- Measure outcomes per measure, stratum ('all' = every stratum together), performance year and entity
    (entity_level all, tin, tin_npi), and the performance rate. The rate's rules (measures.md):
    eligible_population = met + not_met + not_measured - not measured stays in the denominator as not met;
    excluded cases leave it; pending cases (window still open) and not_eligible cases (a measure-year CMS does
    not define) are never counted in it. Grain - one row per measure_id, stratum, performance_year,
    entity_level, tin and rendering_npi. -#}
with counts as (

    select
        measure_id,
        case when grouping(stratum) = 0 then stratum else 'all' end as stratum,
        performance_year,
        {{ entity_level() }},
        tin,
        rendering_npi,
        cast(count(*) as {{ dbt.type_bigint() }}) as cases,
        cast(count_if(status = 'pending') as {{ dbt.type_bigint() }}) as pending,
        cast(count_if(status = 'not_eligible') as {{ dbt.type_bigint() }}) as not_eligible,
        cast(count_if(status = 'excluded') as {{ dbt.type_bigint() }}) as excluded,
        cast(count_if(status in ('met', 'not_met', 'not_measured')) as {{ dbt.type_bigint() }}) as eligible_population,
        cast(count_if(status = 'met') as {{ dbt.type_bigint() }}) as met,
        cast(count_if(status = 'not_met') as {{ dbt.type_bigint() }}) as not_met,
        cast(count_if(status = 'not_measured') as {{ dbt.type_bigint() }}) as not_measured
    from {{ ref('measure_cases') }}
    {{ entity_grouping([['measure_id', 'performance_year'], ['measure_id', 'stratum', 'performance_year']]) }}

)

select
    *,
    {{ rate_pct('met', 'eligible_population') }} as performance_rate_pct,
    {{ rate_pct('met + not_met', 'eligible_population') }} as reporting_rate_pct
from counts
