{#- A claim as Tuva keys it: its data_source and claim_id (docs/data_contract.md, "A claim line is claim_id +
    claim_line_number + data_source"). One non-null text the models join claims on and count them by; claim_id
    stays as delivered. Two sources numbering their claims alike are two claims. An empty data_source ('' or
    NULL; the ingestion loads '' as NULL) is one source of its own: its key is '|' and the claim_id; a named
    source's is the name's length, ':', the name, '|' and the claim_id, so no name or claim_id containing the
    separator can make two claims one. Portable: the same SQL on DuckDB and Spark. -#}
{% macro claim_key(data_source, claim_id) -%}
    {%- set source = "nullif(" ~ data_source ~ ", '')" -%}
    {{ dbt.concat(["case when " ~ source ~ " is null then '|' else "
                   ~ dbt.concat(["cast(" ~ dbt.length(source) ~ " as " ~ dbt.type_string() ~ ")", "':'", source, "'|'"])
                   ~ " end", claim_id]) }}
{%- endmacro %}
