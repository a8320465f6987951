{#- Tuva's input layer carries diagnosis_code_1..25 (orchestration/contract.py MAX_DIAGNOSES).
    One row per filled diagnosis position. -#}
with claims as (

    select * from {{ ref('base_medical_claim') }}

),

unpivoted as (

    {{ unpivot_positions('claims', ['claim_id', 'claim_line_number', 'person_id', 'service_date'],
                         'diagnosis_code_', 25, 'diagnosis_position', 'raw_code') }}

)

select
    claim_id,
    claim_line_number,
    person_id,
    service_date,
    diagnosis_position,
    {{ normalize_icd10('raw_code') }} as diagnosis_code
from unpivoted
where {{ normalize_icd10('raw_code') }} <> ''
