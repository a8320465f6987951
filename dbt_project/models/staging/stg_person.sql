{#- One row per person; sex and payer type come from the latest enrollment span (latest start, then latest
    end); the birth date from the latest span that carries one, so a corrected birth date in a newer span
    wins and a newer span delivered without a birth date does not erase it. Rebuilt only when stg_eligibility
    was (macros/rebuilt_when_inputs_change.sql). -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_when_inputs_changed(eligibility_derived_inputs_digest()) }}",
) }}
{%- set inputs = eligibility_derived_inputs_digest() %}

with eligibility as (

    select * from {{ ref('stg_eligibility') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id
            order by enrollment_start_date desc nulls last, enrollment_end_date desc nulls last,
                     birth_date desc nulls last
        ) as recency_rank
    from eligibility

),

ranked_birth_dates as (

    select
        person_id,
        birth_date,
        row_number() over (
            partition by person_id
            order by enrollment_start_date desc nulls last, enrollment_end_date desc nulls last,
                     birth_date desc
        ) as recency_rank
    from eligibility
    where birth_date is not null

)

select
    ranked.person_id,
    ranked_birth_dates.birth_date,
    ranked.sex,
    ranked.payer_type,
    {{ inputs }} as _inputs_digest
from ranked
left join ranked_birth_dates
    on ranked.person_id = ranked_birth_dates.person_id
    and ranked_birth_dates.recency_rank = 1
where ranked.recency_rank = 1
{{ only_when_inputs_changed(inputs) }}
