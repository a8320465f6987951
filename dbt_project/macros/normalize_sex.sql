{#- Tuva's gender column: male / female / unknown; single-letter codes from older extracts are accepted. -#}
{% macro normalize_sex(column) -%}
    case
        when lower(trim({{ column }})) in ('male', 'm') then 'male'
        when lower(trim({{ column }})) in ('female', 'f') then 'female'
        else 'unknown'
    end
{%- endmacro %}
