{#- Quarter rows and year rows of one aggregation in a single pass: GROUPING SETS over (keys, year, quarter)
    and (keys, year). A claim or a person can span quarters, so a year's distinct counts are counted at year
    grain, never added up from its quarters. `period_columns` names the row - period_type quarter (period
    2024-Q1) or year (period 2024, quarter null). -#}
{% macro period_columns() -%}
    case when grouping(quarter) = 0 then 'quarter' else 'year' end as period_type,
    case when grouping(quarter) = 0
        then {{ dbt.concat([dbt.cast('year', dbt.type_string()), "'-Q'", dbt.cast('quarter', dbt.type_string())]) }}
        else {{ dbt.cast('year', dbt.type_string()) }}
    end as period,
    year,
    quarter
{%- endmacro %}

{% macro period_grouping(keys) -%}
    group by grouping sets (({{ keys | join(', ') }}, year, quarter), ({{ keys | join(', ') }}, year))
{%- endmacro %}

{#- The line counts of every code table: lines, distinct claims (claim_key: data_source with claim_id), distinct
    persons. -#}
{% macro line_counts() -%}
    count(*) as claim_lines,
    count(distinct claim_key) as claims,
    count(distinct person_id) as persons
{%- endmacro %}
