{#- Generic data test: the model has no rows (each row is a failure). -#}
{% test is_empty(model) %}
    select * from {{ model }}
{% endtest %}
