{#- Claim lines up to the as-of date, with their payer: the display name of the payer_patterns row the delivered
    name matches (stg_payer_spellings), and the payer type of the person's enrollment with that payer
    (stg_enrollment_payer_types), else of the pattern, else 'other'. A view: the as-of date, the payer patterns and
    the enrollment change without a new claim line, so they are applied here, on read, by small joins, and the
    claim lines themselves (base_medical_claim) are written only when a delivery touches them. -#}
{{ config(materialized='view') }}

with claims as (

    select * from {{ ref('base_medical_claim') }}
    where service_date <= cast('{{ run_var("as_of_date") }}' as date)

),

payers as (

    select * from {{ ref('stg_payer_spellings') }}

),

enrolled_payer_types as (

    select * from {{ ref('stg_enrollment_payer_types') }}

)

select
    claims.claim_id,
    claims.claim_line_number,
    claims.person_id,
    coalesce(payers.payer, claims.payer) as payer,
    coalesce(enrolled_payer_types.payer_type, payers.payer_type, 'other') as payer_type,
    claims.service_date,
    claims.place_of_service_code,
    claims.hcpcs_code,
    claims.service_unit_quantity,
    claims.rendering_npi,
    claims.rendering_tin,
    claims.allowed_amount,
    claims.paid_amount
from claims
left join payers
    on claims.payer_key = payers.spelling
left join enrolled_payer_types
    on claims.person_id = enrolled_payer_types.person_id
    and coalesce(payers.payer, claims.payer) = enrolled_payer_types.payer
