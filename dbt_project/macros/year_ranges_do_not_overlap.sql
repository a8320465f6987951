{#- Fails with the rows of a year-keyed seed whose range is inverted or overlaps the previous range of the same
    key (no key columns: the whole seed is one key): each key has at most one row per performance year, so a
    case can never meet two rows of one year. -#}
{% test year_ranges_do_not_overlap(model, key_columns) %}
{%- set keys = key_columns | join(', ') -%}
{%- set partition = 'partition by ' ~ keys if keys else '' -%}
with ordered as (
    select
        {% if keys %}{{ keys }},{% endif %}
        performance_year_from,
        performance_year_to,
        lag(performance_year_from) over ({{ partition }} order by performance_year_from) as previous_from,
        lag(performance_year_to) over ({{ partition }} order by performance_year_from) as previous_to
    from {{ model }}
)
select *
from ordered
where performance_year_from is null
   or performance_year_to < performance_year_from
   or (previous_from is not null and (previous_to is null or previous_to >= performance_year_from))
{% endtest %}
