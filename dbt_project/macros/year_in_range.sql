{#- Whether a performance year falls in a row's inclusive range; an empty (null) `to` is open-ended. Every
    year-keyed seed row carries performance_year_from / performance_year_to. -#}
{% macro year_in_range(year, year_from, year_to) -%}
    ({{ year }} >= {{ year_from }} and ({{ year_to }} is null or {{ year }} <= {{ year_to }}))
{%- endmacro %}
