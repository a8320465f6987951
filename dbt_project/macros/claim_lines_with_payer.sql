{#- The claim lines of `claims` (rows of base_medical_claim) with their payer: the display name of the
    payer_patterns row the delivered name matches (stg_payer_spellings), and the payer type of the person's
    enrollment with that payer (stg_enrollment_payer_types), else of the pattern, else 'other'. The select of
    stg_medical_claim; int_reporting__code_lines applies it to the lines an incremental build rewrites, with
    `extra_columns` of `claims` passed through. -#}
{% macro claim_lines_with_payer(claims, extra_columns=[]) -%}
select
    claims.claim_id,
    claims.claim_line_number,
    claims.claim_key,
    claims.data_source,
    claims.person_id,
    coalesce(payers.payer, claims.payer) as payer,
    {{ resolved_payer_type() }} as payer_type,
    claims.service_date,
    claims.place_of_service_code,
    claims.hcpcs_code,
    claims.service_unit_quantity,
    claims.rendering_npi,
    claims.rendering_tin,
    claims.allowed_amount,
    claims.paid_amount
    {%- for column in extra_columns %},
    claims.{{ column }}
    {%- endfor %}
from {{ claims }} as claims
{{ payer_joins('claims', 'payer_key', 'payer') }}
{%- endmacro %}

{#- The joins that resolve the payer of the claim lines `alias`: `payers` (the payer_patterns row its delivered
    name's key `payer_key` matches) and `enrolled_payer_types` (the person's enrollment with that payer, or with
    the delivered name `delivered_payer` where no pattern matched). -#}
{% macro payer_joins(alias, payer_key, delivered_payer) -%}
left join {{ ref('stg_payer_spellings') }} as payers
    on {{ alias }}.{{ payer_key }} = payers.spelling
left join {{ ref('stg_enrollment_payer_types') }} as enrolled_payer_types
    on {{ alias }}.person_id = enrolled_payer_types.person_id
    and coalesce(payers.payer, {{ alias }}.{{ delivered_payer }}) = enrolled_payer_types.payer
{%- endmacro %}

{#- The payer type of a line joined by payer_joins: the enrollment's, else the pattern's, else 'other'. -#}
{% macro resolved_payer_type() -%}
coalesce(enrolled_payer_types.payer_type, payers.payer_type, 'other')
{%- endmacro %}
