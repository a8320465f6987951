{#- The spellings payer names and payer types are matched on (stg_payer_spellings): trimmed, lower case. -#}
{% macro normalize_payer_key(column) -%}
    lower(trim({{ column }}))
{%- endmacro %}

{#- An enrollment's delivered payer type followed by its payer name ("medicare humana"): Tuva's payer_type has
    no Medicare Advantage, so the carrier beside "medicare" is what says it (payer_patterns). Null without a type. -#}
{% macro enrollment_type_key(payer_type, payer) -%}
    lower(trim({{ dbt.concat([dbt.concat(['trim(' ~ payer_type ~ ')', "' '"]), "coalesce(trim(" ~ payer ~ "), '')"]) }}))
{%- endmacro %}
