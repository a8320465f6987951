{#- dbt.dateadd on Spark, for the dates this project moves: date_add / add_months (which clamps to the month's end,
    as DuckDB's `+ interval n month` does), so that a date stays a date. dbt-spark's own version round-trips through
    unix timestamps in the session time zone; other dateparts still go to it. Callers cast the result to date on
    every engine (dbt.dateadd is a timestamp on DuckDB). -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set months = {'month': 1, 'quarter': 3, 'year': 12} -%}
    {%- if datepart in ('day', 'week') -%}
        date_add({{ from_date_or_timestamp }}, cast(({{ interval }}) * {{ 7 if datepart == 'week' else 1 }} as int))
    {%- elif datepart in months -%}
        add_months({{ from_date_or_timestamp }}, cast(({{ interval }}) * {{ months[datepart] }} as int))
    {%- else -%}
        {{ dbt_spark.spark__dateadd(datepart, interval, from_date_or_timestamp) }}
    {%- endif -%}
{%- endmacro %}
