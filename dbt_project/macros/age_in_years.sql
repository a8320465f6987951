{#- Age in completed years on a date; the birthday itself counts (born 2006-03-10 -> 18 on 2024-03-10).
    A person born on 29 February turns a year older on 1 March in common years. -#}
{% macro age_in_years(birth_date, on_date) -%}
    (extract(year from {{ on_date }}) - extract(year from {{ birth_date }})
        - case
            when extract(month from {{ on_date }}) * 100 + extract(day from {{ on_date }})
                 < extract(month from {{ birth_date }}) * 100 + extract(day from {{ birth_date }})
            then 1 else 0
          end)
{%- endmacro %}
