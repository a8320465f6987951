{#- The incremental readers of the claim lines: int_reporting__code_lines and int_rehab__visit_lines, tables of one
    (or one per measure) row per claim line, derived from base_medical_claim and small data that changes without a
    new claim line (docs/performance.md, "The incremental month, session 5"). An incremental build rewrites only
    the lines whose row can differ from the one held:

    - a line with a version newer than the model's watermark (the latest _loaded_at among its rows), and a line
      held from a delivery the ledger (raw._deliveries) says was loaded again since then: its version may be
      another now, or gone (the claim staging's rules, macros/claim_line_versions.sql);
    - the as-of date: lines dated after every line the model holds, up to the as-of date (it moved forward), and
      held lines dated after it (it moved back);
    - what the model reads besides the line (its `held_changes`: the payer and taxonomy of a code line, the birth
      date of a visit line's person), compared with what the held row was written from;
    - everything, when the model's reference digest (its seeds and code, `reference_digest`) differs from the
      one its rows were written with.

    The touched lines are written again (delete+insert on the key); held rows a touched line no longer produces
    are written as deletion markers that the post-hook deletes (delete_deleted_rows). A full build, and every
    build on Spark (claim_materialization), writes every line. -#}

{#- The CTE touched_lines: the keys (claim_id, claim_line_number, claim_key) an incremental build rewrites. `held_changes`:
    a select of keys from the model's rows whose other inputs changed; `reference`: the current reference
    digest (SQL); `as_of`: the as-of date (SQL). -#}
{% macro claim_reader_touched_lines(held_changes, reference, as_of) -%}

touched_lines as (

    select claim_id, claim_line_number, claim_key
    from {{ ref('base_medical_claim') }}
    where {{ loaded_since_watermark('_loaded_at') }}

    union

    select claim_id, claim_line_number, claim_key
    from {{ this }}
    where _delivery in (
        select delivery
        from {{ source('raw', '_deliveries') }}
        where table_name = 'medical_claim' and {{ loaded_since_watermark('loaded_at') }}
    )

    union

    select claim_id, claim_line_number, claim_key
    from {{ ref('base_medical_claim') }}
    where service_date <= {{ as_of }}
      and (service_date > (select max(service_date) from {{ this }})
           or not exists (select 1 from {{ this }})
           or exists (select 1 from {{ this }} where _reference_digest is distinct from {{ reference }}))

    union

    select claim_id, claim_line_number, claim_key
    from {{ this }}
    where service_date > {{ as_of }} or _reference_digest is distinct from {{ reference }}

    union

    {{ held_changes }}

)
{%- endmacro %}

{#- A table written by an earlier version lacks the columns an incremental build compares (`columns`: the
    readers' _reference_digest, session 5; every claim model's claim_key, session 10): a build (dbt run / build)
    drops it first, so that is_incremental() is false and the model is written in full, once. Called at the top of
    the model, before is_incremental(). Unit tests override this macro. -#}
{% macro claim_reader_upgrade(columns=['_reference_digest', 'claim_key']) -%}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set held = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
        {%- set held_columns = [] if held is none else (adapter.get_columns_in_relation(held)
                                                        | map(attribute='name') | map('lower') | list) -%}
        {%- if held is not none and (columns | reject('in', held_columns) | list) -%}
            {%- do log(this ~ " was written by an earlier version: written again in full", info=True) -%}
            {%- do adapter.drop_relation(held) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Deletion markers: the held rows of the touched lines that the build's `new_rows` do not write again (by
    `key_columns`), with null in `other_columns`; the post-hook delete_deleted_rows deletes them. -#}
{% macro claim_reader_deletions(new_rows, key_columns, other_columns) -%}
    {{ deletion_markers(new_rows, key_columns, null_columns(other_columns), 'touched_lines') }}
{%- endmacro %}

{#- A filter keeping the rows of `alias` (a claim line or diagnosis) on the touched lines; nothing on a full
    build. -#}
{% macro on_touched_lines(alias) -%}
    {%- if is_incremental() %}
    and exists (
        select 1 from touched_lines
        where touched_lines.claim_id = {{ alias }}.claim_id
          and touched_lines.claim_line_number = {{ alias }}.claim_line_number
          and touched_lines.claim_key = {{ alias }}.claim_key
    )
    {%- endif %}
{%- endmacro %}

{#- The digest of what a reader of the claim lines computes its rows by besides the lines: the given tables'
    rows (read when the build runs) and the model's own code (its checksum and the macros it names). A
    different digest rewrites every line. -#}
{% macro claim_reader_reference(relations, macro_texts=[]) -%}
    {%- set parts = macro_texts | list -%}
    {%- if execute -%}
        {%- do parts.append(graph.nodes[model.unique_id].checksum.checksum) -%}
    {%- endif -%}
    {%- set expressions = ["'" ~ local_md5(parts | join('|')) ~ "'"] -%}
    {%- for relation in relations -%}
        {%- do expressions.append(table_digest(relation)) -%}
    {%- endfor -%}
    {{ return(row_hash(expressions)) }}
{%- endmacro %}
