{#- One row per person; birth date, sex and payer type come from the latest enrollment span (latest start,
    then latest end), so a corrected birth date in a newer span wins. -#}
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

)

select
    person_id,
    birth_date,
    sex,
    payer_type
from ranked
where recency_rank = 1
