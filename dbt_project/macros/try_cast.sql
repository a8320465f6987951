{#- A cast that yields null instead of failing on a value that does not convert (e.g. a non-numeric score).
    dbt.safe_cast is a plain cast on DuckDB, hence this macro; engines without try_cast dispatch their own. -#}
{% macro try_cast(field, type) -%}
    {{ return(adapter.dispatch('try_cast')(field, type)) }}
{%- endmacro %}

{% macro default__try_cast(field, type) -%}
    {{ dbt.safe_cast(field, type) }}
{%- endmacro %}

{% macro duckdb__try_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{#- Spark's cast yields null on a bad value only with ANSI mode off (dbt-spark turns it off); try_cast says so. -#}
{% macro spark__try_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
