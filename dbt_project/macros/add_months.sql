{#- Calendar-month arithmetic that clamps to the month's end (2024-05-31 - 3 months = 2024-02-29), as
    MIPS 459 requires. dbt.dateadd is `date + interval n month` on DuckDB and Postgres, which clamps; an
    engine whose month arithmetic does not clamp dispatches its own version here. -#}
{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months')(date_expression, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expression, months) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}

{% macro spark__add_months(date_expression, months) -%}
    add_months({{ date_expression }}, cast({{ months }} as int))
{%- endmacro %}
