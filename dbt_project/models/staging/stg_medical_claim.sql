{#- The columns the measures and the publication read; the rest of Tuva's claim line (claim type, plan,
    billing provider, charges, data source) stays in raw.medical_claim, where it costs nothing to keep. -#}
with claims as (

    select * from {{ ref('base_medical_claim') }}

),

payers as (

    select * from {{ ref('stg_payer_spellings') }}

),

eligibility as (

    select * from {{ ref('stg_eligibility') }}

),

{#- Claims carry no payer type: the enrollment with the same payer says e.g. whether a carrier's plan is
    Medicare Advantage; the type of the payer_patterns row the name matches is the fallback. -#}
enrolled_payer_types as (

    select person_id, payer, payer_type
    from (
        select
            person_id,
            payer,
            payer_type,
            row_number() over (
                partition by person_id, payer
                order by enrollment_start_date desc, enrollment_end_date desc
            ) as recency_rank
        from eligibility
        where payer is not null
    ) ranked
    where recency_rank = 1

)

select
    claims.claim_id,
    claims.claim_line_number,
    claims.person_id,
    coalesce(payers.payer, nullif(trim(claims.payer), '')) as payer,
    coalesce(enrolled_payer_types.payer_type, payers.payer_type, 'other') as payer_type,
    claims.service_date,
    nullif(trim(claims.place_of_service_code), '') as place_of_service_code,
    {#- a line without a code is no code line (its diagnoses still count, stg_claim_diagnosis) -#}
    nullif(upper(trim(claims.hcpcs_code)), '') as hcpcs_code,
    claims.service_unit_quantity,
    nullif(trim(claims.rendering_npi), '') as rendering_npi,
    {#- TINs as 9 digits: hyphens and blanks some files carry are left out (as in MEASURE_220_TINS) -#}
    nullif(replace(replace(trim(claims.rendering_tin), '-', ''), ' ', ''), '') as rendering_tin,
    claims.allowed_amount,
    claims.paid_amount
from claims
left join payers
    on {{ normalize_payer_key('claims.payer') }} = payers.spelling
left join enrolled_payer_types
    on claims.person_id = enrolled_payer_types.person_id
    and coalesce(payers.payer, nullif(trim(claims.payer), '')) = enrolled_payer_types.payer
