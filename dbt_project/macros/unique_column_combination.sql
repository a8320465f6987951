{#- Fails with the duplicated key combinations (dbt_utils is not a dependency of this project). -#}
{% test unique_column_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
