{#- The key observation codes are matched on against the instruments seed: upper case, without blanks or
    hyphens, so that a LOINC code matches with or without the hyphen before its check digit (72514-3 and
    725143), as real extracts deliver both. -#}
{% macro normalize_observation_code(column) -%}
    upper(replace(replace(trim({{ column }}), '-', ''), ' ', ''))
{%- endmacro %}
