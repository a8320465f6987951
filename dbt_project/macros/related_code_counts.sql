{#- Claims and persons per code, period and related value (`pairs`: rows of code, claim_key, person_id, year,
    quarter and the related value `dimension`), keeping the `top_n` related values per code and year (ranked
    by their year's claims, ties by value) with all their quarter rows. -#}
{% macro related_code_counts(pairs, dimension, top_n) -%}
    select code, period_type, period, year, quarter, {{ dimension }}, claims, persons
    from (
        select
            *,
            dense_rank() over (partition by code, year order by year_claims desc, {{ dimension }}) as value_rank
        from (
            select
                *,
                max(case when period_type = 'year' then claims end)
                    over (partition by code, year, {{ dimension }}) as year_claims
            from (
                select
                    code,
                    {{ period_columns() }},
                    {{ dimension }},
                    count(distinct claim_key) as claims,
                    count(distinct person_id) as persons
                from {{ pairs }}
                {{ period_grouping(['code', dimension]) }}
            ) as counts
        ) as ranked
    ) as kept
    where value_rank <= {{ top_n }}
{%- endmacro %}
