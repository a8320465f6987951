{#- HCPCS modifiers of the claim lines in stg_medical_claim (up to the as-of date), one row per filled position. -#}
{{ config(materialized='view') }}

select
    claim_id,
    claim_line_number,
    claim_key,
    modifier_position,
    modifier
from {{ ref('base_claim_modifier') }}
where service_date <= cast('{{ run_var("as_of_date") }}' as date)
