{#- Claim lines up to the as-of date, with their payer: the display name of the payer_patterns row the delivered
    name matches (stg_payer_spellings), and the payer type of the person's enrollment with that payer
    (stg_enrollment_payer_types), else of the pattern, else 'other'. A view: the as-of date, the payer patterns and
    the enrollment change without a new claim line, so they are applied here, on read, by small joins, and the
    claim lines themselves (base_medical_claim) are written only when a delivery touches them. The payer is
    resolved by the macro claim_lines_with_payer, which the incremental int_reporting__code_lines applies to the
    lines it rewrites. -#}
{{ config(materialized='view') }}

with claims as (

    select * from {{ ref('base_medical_claim') }}
    where service_date <= cast('{{ run_var("as_of_date") }}' as date)

)

{{ claim_lines_with_payer('claims') }}
