{#- Fails with the rows where `expression` (SQL over the model's columns) is not true (dbt_utils is not a
    dependency of this project). -#}
{% test expression_is_true(model, expression, column_name=None) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
