{#- Whether `value` contains a match of the regular expression `pattern` (both SQL expressions; a pattern may
    be a column). Patterns stick to the syntax DuckDB (RE2) and Spark (Java) share: alternation, groups, classes,
    ?, *, ^, $, \b; no look-around. -#}
{% macro matches_regex(value, pattern) -%}
    {{ return(adapter.dispatch('matches_regex')(value, pattern)) }}
{%- endmacro %}

{% macro default__matches_regex(value, pattern) -%}
    {{ value }} rlike {{ pattern }}
{%- endmacro %}

{% macro duckdb__matches_regex(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}
