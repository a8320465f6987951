{#- One row per filled numbered column (prefix_1..prefix_N, as Tuva's input layer numbers diagnoses and
    modifiers): the kept columns, the position (integer) and the value; null values are left out.
    The default is a union of one narrow select per position, which every engine runs. DuckDB's UNPIVOT reads
    the relation once instead: the union reads the relation N times, which costs N scans of a
    view or N times the width of a table. -#}
{% macro unpivot_positions(relation, keep_columns, prefix, positions, position_name, value_name) -%}
    {{ return(adapter.dispatch('unpivot_positions')(relation, keep_columns, prefix, positions, position_name, value_name)) }}
{%- endmacro %}

{% macro default__unpivot_positions(relation, keep_columns, prefix, positions, position_name, value_name) -%}
    {% for position in range(1, positions + 1) %}
    select
        {% for column in keep_columns %}{{ column }}, {% endfor %}
        {{ position }} as {{ position_name }},
        {{ prefix }}{{ position }} as {{ value_name }}
    from {{ relation }}
    where {{ prefix }}{{ position }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{%- endmacro %}

{% macro duckdb__unpivot_positions(relation, keep_columns, prefix, positions, position_name, value_name) -%}
    {%- set columns = [] -%}
    {%- for position in range(1, positions + 1) -%}{%- do columns.append(prefix ~ position) -%}{%- endfor %}
    {#- UNPIVOT leaves out null values, as the default's where clauses do -#}
    select
        {% for column in keep_columns %}{{ column }}, {% endfor %}
        cast(substr(unpivoted_column, {{ prefix | length + 1 }}) as integer) as {{ position_name }},
        {{ value_name }}
    from (
        unpivot (select {% for column in keep_columns %}{{ column }}, {% endfor %}{{ columns | join(', ') }} from {{ relation }})
        on {{ columns | join(', ') }}
        into name unpivoted_column value {{ value_name }}
    ) as unpivoted
{%- endmacro %}

{#- Spark (3.4+) has UNPIVOT too, with its own syntax; it leaves out null values by default. -#}
{% macro spark__unpivot_positions(relation, keep_columns, prefix, positions, position_name, value_name) -%}
    {%- set columns = [] -%}
    {%- for position in range(1, positions + 1) -%}{%- do columns.append(prefix ~ position) -%}{%- endfor %}
    select
        {% for column in keep_columns %}{{ column }}, {% endfor %}
        cast(substr(unpivoted_column, {{ prefix | length + 1 }}) as integer) as {{ position_name }},
        {{ value_name }}
    from (
        select {% for column in keep_columns %}{{ column }}, {% endfor %}{{ columns | join(', ') }} from {{ relation }}
    ) unpivot ({{ value_name }} for unpivoted_column in ({{ columns | join(', ') }})) as unpivoted
{%- endmacro %}
