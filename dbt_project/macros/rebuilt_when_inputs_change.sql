{#- Tables that are rebuilt whole, but only when their inputs changed: the enrollment-derived staging
    (stg_eligibility, stg_person, stg_enrollment_payer_types). Their inputs change with an enrollment delivery,
    a new payer pattern, or an as-of date that lets a new span in - rarely, as enrollment is delivered once a
    year -, while every monthly claims delivery runs the build (docs/performance.md, "The incremental month,
    session 5"). Each row carries the digest of the inputs it was built from (`_inputs_digest`); a build whose
    inputs digest equals the held rows' writes nothing, any other deletes the rows (pre-hook) and writes them all
    again. A full build, and every build on Spark (claim_materialization: tables rebuilt in full), writes them
    all. -#}

{#- Whether the held rows were built from `inputs` (SQL of the inputs digest): none held, or another digest, or a
    table from before `_inputs_digest` (then it is rebuilt) is a change. Unit tests override this macro. -#}
{% macro inputs_unchanged(inputs) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if '_inputs_digest' not in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set held = run_query('select count(*), count(*) filter (where _inputs_digest is distinct from ('
                             ~ inputs ~ ')) from ' ~ this) -%}
    {{ return(held.columns[0].values()[0] > 0 and held.columns[1].values()[0] == 0) }}
{%- endmacro %}

{#- Pre-hook: an incremental build whose inputs changed deletes every held row first. -#}
{% macro delete_when_inputs_changed(inputs) -%}
    {%- if is_incremental() and not inputs_unchanged(inputs) %}
    delete from {{ this }}
    {%- endif %}
{%- endmacro %}

{#- Ends the model's select: nothing to write when the inputs did not change. -#}
{% macro only_when_inputs_changed(inputs) -%}
    {%- if inputs_unchanged(inputs) %}
limit 0
    {%- endif %}
{%- endmacro %}

{#- The inputs of stg_eligibility: the enrollment deliveries loaded (the ledger, and the raw rows' count and last
    load), the spans the as-of date lets in (a count: the set only grows with the date, for the same rows), the
    payer patterns' reading of each spelling, and the code. `as_of`: the as-of date (SQL). -#}
{% macro eligibility_inputs_digest(as_of) -%}
    {#- the ledger is read only when the build runs (as the claim staging reads it): not a parse-time dependency,
        which would make it a dbt source asset of its own -#}
    {%- if claim_materialization() != 'incremental' or not execute -%}
        {{ return(no_inputs_digest()) }}
    {%- endif -%}
    {%- set code = [normalize_sex('g'), normalize_payer_key('p'), enrollment_type_key('t', 'p')] -%}
    {%- if execute -%}
        {%- do code.append(graph.nodes[model.unique_id].checksum.checksum) -%}
    {%- endif -%}
    {{ row_hash([
        "'" ~ local_md5(code | join('|')) ~ "'",
        "(select coalesce(sum(" ~ row_hash(['delivery', 'loaded_at']) ~ "), 0) from " ~ source('raw', '_deliveries')
            ~ " where table_name = 'eligibility')",
        "(select count(*) from " ~ source('raw', 'eligibility') ~ ")",
        "(select max(_loaded_at) from " ~ source('raw', 'eligibility') ~ ")",
        "(select count(*) from " ~ source('raw', 'eligibility') ~ " where enrollment_start_date is null or "
            ~ "enrollment_start_date <= " ~ as_of ~ ")",
        "(select coalesce(sum(" ~ row_hash(['spelling', 'payer', 'payer_type']) ~ "), 0) from "
            ~ ref('stg_payer_spellings') ~ ")",
    ]) }}
{%- endmacro %}

{#- The inputs of a table derived from stg_eligibility alone: the digest stg_eligibility was built from, and the
    code. -#}
{% macro eligibility_derived_inputs_digest() -%}
    {%- if claim_materialization() != 'incremental' -%}
        {{ return(no_inputs_digest()) }}
    {%- endif -%}
    {%- set code = [] -%}
    {%- if execute -%}
        {%- do code.append(graph.nodes[model.unique_id].checksum.checksum) -%}
    {%- endif -%}
    {{ row_hash([
        "'" ~ local_md5(code | join('|')) ~ "'",
        "(select max(_inputs_digest) from " ~ ref('stg_eligibility') ~ ")",
        "(select count(*) from " ~ ref('stg_eligibility') ~ ")",
    ]) }}
{%- endmacro %}

{#- Where the tables are rebuilt in full (Spark) no digest is read, and the ledger it reads is not there. -#}
{% macro no_inputs_digest() -%}
    {{ return('cast(null as decimal(38, 0))') }}
{%- endmacro %}
