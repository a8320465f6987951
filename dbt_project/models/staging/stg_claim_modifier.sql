{#- Tuva's input layer carries hcpcs_modifier_1..5 (orchestration/contract.py MAX_MODIFIERS). -#}
with claims as (

    select * from {{ ref('base_medical_claim') }}

),

unpivoted as (

    {{ unpivot_positions('claims', ['claim_id', 'claim_line_number'], 'hcpcs_modifier_', 5,
                         'modifier_position', 'raw_modifier') }}

)

select
    claim_id,
    claim_line_number,
    modifier_position,
    upper(trim(raw_modifier)) as modifier
from unpivoted
where trim(raw_modifier) <> ''
