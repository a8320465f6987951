{#- The follow-up worklist counted per measure for all TINs and per TIN (no identifiers), with the share of
    open cases still missing a score. open_missing_score = not_yet_due + due_now + closing_soon.
    Grain - one row per measure_id, entity_level and tin. -#}
with summed as (

    select
        measure_id,
        case when grouping(tin) = 1 then 'all' else 'tin' end as entity_level,
        tin,
        max(as_of_date) as as_of_date,
        cast(sum(open_cases) as {{ dbt.type_bigint() }}) as open_cases,
        cast(sum(scored_in_window) as {{ dbt.type_bigint() }}) as scored_in_window,
        cast(sum(not_yet_due) as {{ dbt.type_bigint() }}) as not_yet_due,
        cast(sum(due_now) as {{ dbt.type_bigint() }}) as due_now,
        cast(sum(closing_soon) as {{ dbt.type_bigint() }}) as closing_soon,
        cast(sum(missed) as {{ dbt.type_bigint() }}) as missed
    from {{ ref('follow_up_counts') }}
    group by grouping sets ((measure_id), (measure_id, tin))

)

select
    measure_id,
    entity_level,
    tin,
    as_of_date,
    open_cases,
    scored_in_window,
    not_yet_due + due_now + closing_soon as open_missing_score,
    not_yet_due,
    due_now,
    closing_soon,
    missed,
    {{ rate_pct('not_yet_due + due_now + closing_soon', 'open_cases') }} as open_missing_score_pct
from summed
