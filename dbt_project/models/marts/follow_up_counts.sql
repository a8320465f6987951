{#- Worklist counts per measure and TIN on the as-of date, without identifiers (the source of the published
    follow_up_worklist_counts and of the worklist's Dagster metadata). open_cases = scored_in_window + not_yet_due
    + due_now + closing_soon; missed is counted apart (its windows are closed). Grain - one row per measure_id
    and tin. -#}
{%- set bigint = dbt.type_bigint() -%}
with follow_up as (

    select * from {{ ref('int_follow_up__cases') }}

),

parameters as (

    select * from {{ ref('follow_up_worklist_parameters') }}

),

flagged as (

    select
        follow_up.measure_id,
        follow_up.tin,
        follow_up.as_of_date,
        case when follow_up.is_open then 1 else 0 end as is_open,
        case when follow_up.is_open and follow_up.status is null then 1 else 0 end as is_scored_in_window,
        case when follow_up.status = parameters.status_not_yet_due then 1 else 0 end as is_not_yet_due,
        case when follow_up.status = parameters.status_due_now then 1 else 0 end as is_due_now,
        case when follow_up.status = parameters.status_closing_soon then 1 else 0 end as is_closing_soon,
        case when follow_up.status = parameters.status_missed then 1 else 0 end as is_missed
    from follow_up
    cross join parameters

)

select
    measure_id,
    tin,
    as_of_date,
    cast(sum(is_open) as {{ bigint }}) as open_cases,
    cast(sum(is_scored_in_window) as {{ bigint }}) as scored_in_window,
    cast(sum(is_not_yet_due) as {{ bigint }}) as not_yet_due,
    cast(sum(is_due_now) as {{ bigint }}) as due_now,
    cast(sum(is_closing_soon) as {{ bigint }}) as closing_soon,
    cast(sum(is_missed) as {{ bigint }}) as missed
from flagged
group by measure_id, tin, as_of_date
