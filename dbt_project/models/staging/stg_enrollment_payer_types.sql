{#- Claims carry no payer type: the enrollment with the same payer says e.g. whether a carrier's plan is
    Medicare Advantage. One row per person and payer: the payer type of the latest enrollment span with that
    payer (latest start, then latest end). Read by stg_medical_claim. Rebuilt only when stg_eligibility was
    (macros/rebuilt_when_inputs_change.sql). -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_when_inputs_changed(eligibility_derived_inputs_digest()) }}",
) }}
{%- set inputs = eligibility_derived_inputs_digest() %}

select
    person_id,
    payer,
    payer_type,
    {{ inputs }} as _inputs_digest
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
{{ only_when_inputs_changed(inputs) }}
