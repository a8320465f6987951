{#- A score from an observation's result text: the number itself ('7', ' 7.0 '), or a number followed by a
    unit word or percent sign ('7 points', '45%'), as some sources deliver it. Anything else (ranges,
    fractions, words) has no score. -#}
{% macro parse_score(field, type) -%}
    {{ return(adapter.dispatch('parse_score')(field, type)) }}
{%- endmacro %}

{% macro default__parse_score(field, type) -%}
    {{ try_cast(field, type) }}
{%- endmacro %}

{% macro duckdb__parse_score(field, type) -%}
    coalesce(
        try_cast({{ field }} as {{ type }}),
        try_cast(regexp_extract({{ field }}, '^\s*([+-]?[0-9]+(\.[0-9]+)?)\s*(%|[A-Za-z]+\.?)\s*$', 1) as {{ type }})
    )
{%- endmacro %}

{#- Spark: the same pattern as a raw string literal (r'...'), so its backslashes reach the regular expression. -#}
{% macro spark__parse_score(field, type) -%}
    coalesce(
        try_cast({{ field }} as {{ type }}),
        try_cast(regexp_extract({{ field }}, r'^\s*([+-]?[0-9]+(\.[0-9]+)?)\s*(%|[A-Za-z]+\.?)\s*$', 1) as {{ type }})
    )
{%- endmacro %}
