{#- Tuva's input layer carries diagnosis_code_1..25 (orchestration/contract.py MAX_DIAGNOSES).
    One row per filled diagnosis position. A union of narrow selects reads one column per position, which
    a columnar engine does cheaply and every engine supports. -#}
with claims as (

    select * from {{ ref('base_medical_claim') }}

),

unpivoted as (

    {% for position in range(1, 26) %}
    select
        claim_id,
        claim_line_number,
        person_id,
        service_date,
        {{ position }} as diagnosis_position,
        diagnosis_code_{{ position }} as raw_code
    from claims
    where diagnosis_code_{{ position }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

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
