{#- 100 x part / whole, rounded to 2 decimals, as a double (null when whole is 0). -#}
{% macro share_pct(part, whole) -%}
    cast(round(100.0 * {{ part }} / nullif({{ whole }}, 0), 2) as double)
{%- endmacro %}
