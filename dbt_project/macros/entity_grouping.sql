{#- Measure tables per entity: the rows of all TINs together (entity_level all), per TIN (tin) and per TIN and
    rendering NPI (tin_npi), in one GROUPING SETS pass. `key_sets`: the key lists to group by at each level. -#}
{% macro entity_level() -%}
    case
        when grouping(tin) = 1 then 'all'
        when grouping(rendering_npi) = 1 then 'tin'
        else 'tin_npi'
    end as entity_level
{%- endmacro %}

{% macro entity_grouping(key_sets) -%}
    group by grouping sets (
    {%- for keys in key_sets %}
        ({{ keys | join(', ') }}),
        ({{ keys | join(', ') }}, tin),
        ({{ keys | join(', ') }}, tin, rendering_npi){{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}
