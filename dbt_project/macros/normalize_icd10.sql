{#- ICD-10-CM codes arrive with or without the dot and in any case; the code sets store them upper case
    without the dot. -#}
{% macro normalize_icd10(column) -%}
    upper(replace(trim({{ column }}), '.', ''))
{%- endmacro %}
