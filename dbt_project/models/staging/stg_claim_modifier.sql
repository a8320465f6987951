{#- Tuva's input layer carries hcpcs_modifier_1..5 (orchestration/contract.py MAX_MODIFIERS). -#}
with claims as (

    select * from {{ ref('base_medical_claim') }}

),

unpivoted as (

    {% for position in range(1, 6) %}
    select
        claim_id,
        claim_line_number,
        {{ position }} as modifier_position,
        hcpcs_modifier_{{ position }} as raw_modifier
    from claims
    where hcpcs_modifier_{{ position }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    claim_id,
    claim_line_number,
    modifier_position,
    upper(trim(raw_modifier)) as modifier
from unpivoted
where trim(raw_modifier) <> ''
