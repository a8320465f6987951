{#- The key payer names and payer types are matched on in the payer_normalization seed. -#}
{% macro normalize_payer_key(column) -%}
    lower(trim({{ column }}))
{%- endmacro %}
