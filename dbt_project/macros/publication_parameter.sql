{#- A scalar subquery on seed publication_parameters, cast to `type`. -#}
{% macro publication_parameter(name, type) -%}
    (select cast(value as {{ type }}) from {{ ref('publication_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}
