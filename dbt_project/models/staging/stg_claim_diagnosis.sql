{#- Diagnoses of the claim lines in stg_medical_claim (up to the as-of date), one row per filled position. -#}
{{ config(materialized='view') }}

select
    claim_id,
    claim_line_number,
    claim_key,
    person_id,
    service_date,
    diagnosis_position,
    diagnosis_code
from {{ ref('base_claim_diagnosis') }}
where service_date <= cast('{{ run_var("as_of_date") }}' as date)
