{#- A date moved by an offset whose unit (day | month) is data in pairs_parameters; months clamp to the
    month's end (add_months). -#}
{% macro pairs_offset_date(date_expression, offset, unit) -%}
    case
        when {{ unit }} = 'month' then {{ add_months(date_expression, offset) }}
        when {{ unit }} = 'day' then cast({{ dbt.dateadd('day', offset, date_expression) }} as date)
    end
{%- endmacro %}
