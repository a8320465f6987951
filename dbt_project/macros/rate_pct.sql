{#- 100 x numerator / denominator as decimal(5, 2), rounded to 2 decimals; null when the denominator is 0. -#}
{% macro rate_pct(numerator, denominator) -%}
    cast(round(100.0 * ({{ numerator }}) / nullif({{ denominator }}, 0), 2) as decimal(5, 2))
{%- endmacro %}
