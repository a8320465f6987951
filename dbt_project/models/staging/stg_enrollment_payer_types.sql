{#- Claims carry no payer type: the enrollment with the same payer says e.g. whether a carrier's plan is
    Medicare Advantage. One row per person and payer: the payer type of the latest enrollment span with that
    payer (latest start, then latest end). Read by stg_medical_claim. -#}
select
    person_id,
    payer,
    payer_type
from (
    select
        person_id,
        payer,
        payer_type,
        row_number() over (
            partition by person_id, payer
            order by enrollment_start_date desc, enrollment_end_date desc
        ) as recency_rank
    from {{ ref('stg_eligibility') }}
    where payer is not null
) as ranked
where recency_rank = 1
