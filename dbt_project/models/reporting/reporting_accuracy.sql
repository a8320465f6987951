{#- Whether the quality-data codes billed agree with the codes the clinical data supports. For each counted
    case (not pending, not not_eligible) with a code: agree when exactly its code was billed (any code of its
    measure, same person, dated from the index date through the window end - 220 - the episode end),
    conflicting when another code of the measure was billed, supported_not_billed when none. Each billing
    event (person, code, date, TIN, NPI) of a measure code that no counted case of a measure listing the code
    covers is billed_without_support, attributed to the claim's TIN/NPI and service year and to the first
    measure listing the code. Grain - one row per code, measure_id, performance_year, entity_level, tin and
    rendering_npi. -#}
with code_sets as (

    select distinct measure_id, code from {{ ref('measure_codes') }}

),

cases as (

    select
        case_id,
        person_id,
        measure_id,
        performance_year,
        tin,
        rendering_npi,
        qdc_code,
        index_date,
        coalesce(window_end, episode_end_date) as window_end
    from {{ ref('measure_cases') }}
    where status not in ('pending', 'not_eligible')
        and qdc_code is not null

),

billed as (

    select distinct person_id, code, service_date, rendering_tin, rendering_npi
    from {{ ref('int_reporting__code_lines') }}
    where code in (select code from code_sets)

),

case_billed as (

    select
        cases.case_id,
        count(distinct billed.code) as codes_billed,
        max(case when billed.code = cases.qdc_code then 1 else 0 end) as supported_code_billed
    from cases
    inner join code_sets
        on cases.measure_id = code_sets.measure_id
    inner join billed
        on cases.person_id = billed.person_id
        and code_sets.code = billed.code
        and billed.service_date between cases.index_date and cases.window_end
    group by cases.case_id

),

case_events as (

    select
        cases.qdc_code as code,
        cases.measure_id,
        cases.performance_year,
        cases.tin,
        cases.rendering_npi,
        case
            when case_billed.case_id is null then 'supported_not_billed'
            when case_billed.codes_billed = 1 and case_billed.supported_code_billed = 1 then 'agree'
            else 'conflicting'
        end as category
    from cases
    left join case_billed
        on cases.case_id = case_billed.case_id

),

covered as (

    select distinct billed.person_id, billed.code, billed.service_date
    from billed
    inner join code_sets
        on billed.code = code_sets.code
    inner join cases
        on code_sets.measure_id = cases.measure_id
        and billed.person_id = cases.person_id
        and billed.service_date between cases.index_date and cases.window_end

),

first_measures as (

    select code, min(measure_id) as measure_id from code_sets group by code

),

unsupported_events as (

    select
        billed.code,
        first_measures.measure_id,
        cast(extract(year from billed.service_date) as {{ dbt.type_int() }}) as performance_year,
        billed.rendering_tin as tin,
        billed.rendering_npi,
        'billed_without_support' as category
    from billed
    inner join first_measures
        on billed.code = first_measures.code
    left join covered
        on billed.person_id = covered.person_id
        and billed.code = covered.code
        and billed.service_date = covered.service_date
    where covered.person_id is null

),

events as (

    select * from case_events
    union all
    select * from unsupported_events

),

counts as (

    select
        code,
        measure_id,
        performance_year,
        {{ entity_level() }},
        tin,
        rendering_npi,
        cast(count_if(category <> 'billed_without_support') as {{ dbt.type_bigint() }}) as supported_cases,
        cast(count_if(category = 'agree') as {{ dbt.type_bigint() }}) as agree,
        cast(count_if(category = 'conflicting') as {{ dbt.type_bigint() }}) as conflicting,
        cast(count_if(category = 'supported_not_billed') as {{ dbt.type_bigint() }}) as supported_not_billed,
        cast(count_if(category = 'billed_without_support') as {{ dbt.type_bigint() }}) as billed_without_support
    from events
    {{ entity_grouping([['code', 'measure_id', 'performance_year']]) }}

)

select
    *,
    {{ rate_pct('agree', 'supported_cases') }} as agreement_rate_pct
from counts
