{#- The incremental claim staging (base_medical_claim, base_claim_diagnosis, base_claim_modifier): which claim
    lines a build processes, their latest delivered version, and the rows that must go (docs/performance.md,
    "Incremental claim staging").

    A full build processes every line. An incremental build processes only the lines that the loads since the
    model's watermark (the latest _loaded_at among its rows) touch: the keys of the raw rows loaded since then,
    and the keys the model holds from a delivery loaded again since then (the ledger raw._deliveries says which:
    a re-delivered file replaces its delivery's rows, so lines it no longer carries, or that are now quarantined,
    lose that version). Every raw version of those keys is ranked again, so a late delivery of an older month
    never wins over a newer one. A line whose latest version is the one the model holds is left as it is; a line
    with a new latest version is written again; a line left with no version is deleted.

    A line's key is claim_id, claim_line_number and data_source (Tuva's grain; an empty data_source is one source of
    its own: '' and NULL alike, compared null-safe), and claim_key (data_source with claim_id, macros/claim_key.sql)
    is its claim: two sources' lines with the same claim_id and line number are two lines, and a source's later
    version replaces only its own. The scans of raw.medical_claim join on its own columns (claim_id,
    claim_line_number, then data_source null-safe: measured cheaper than building claim_key for every raw row,
    docs/performance.md); the model's rows are matched on claim_key.

    The latest version: highest _delivery, then _loaded_at, then _line_number, then _source_file. dense_rank:
    two versions with the same lineage cannot be told apart, so neither is dropped and the uniqueness test of
    base_medical_claim reports them. A version is told from another by its delivery and load time: the ingestion
    loads at most one version of a key per delivery (docs/data_contract.md, conflicting versions). -#}

{#- The model's watermark as a SQL literal: the latest load time among its rows, read when the build runs, so
    that the scans of raw.medical_claim skip the row groups loaded before it. none on a full build or an empty
    model. Unit tests override this macro. -#}
{% macro claim_watermark() -%}
    {%- if execute and is_incremental() -%}
        {%- set latest = run_query('select max(_loaded_at) from ' ~ this).columns[0].values()[0] -%}
        {%- if latest is not none -%}
            {{ return("cast('" ~ latest ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- Whether `column` (a load time) is after the watermark; rows without lineage (written by hand, not by the
    ingestion) count as new on every build. -#}
{% macro loaded_since_watermark(column) -%}
    {%- set watermark = claim_watermark() -%}
    {%- if watermark is none -%} true
    {%- else -%} ({{ column }} > {{ watermark }} or {{ column }} is null)
    {%- endif -%}
{%- endmacro %}

{#- The CTEs of an incremental build: touched_lines (the keys it processes), latest_versions (their latest
    version's keys and lineage), held_lines (what the model holds for them), changed_lines (latest versions the
    model does not hold) and deleted_lines (held lines left with no version). -#}
{% macro claim_line_changes() -%}
touched_lines as (

    select claim_id, claim_line_number, nullif(data_source, '') as data_source,
           {{ claim_key('data_source', 'claim_id') }} as claim_key
    from {{ source('raw', 'medical_claim') }}
    where {{ loaded_since_watermark('_loaded_at') }}

    union

    select held.claim_id, held.claim_line_number, held.data_source, held.claim_key
    from {{ this }} as held
    where held._delivery in (
        select delivery
        from {{ source('raw', '_deliveries') }}
        where table_name = 'medical_claim' and {{ loaded_since_watermark('loaded_at') }}
    )

),

latest_versions as (

    select *
    from (
        select
            source.claim_id,
            source.claim_line_number,
            touched_lines.data_source,
            touched_lines.claim_key,
            source._delivery,
            source._loaded_at,
            dense_rank() over (
                partition by source.claim_id, source.claim_line_number, touched_lines.claim_key
                order by source._delivery desc, source._loaded_at desc, source._line_number desc,
                         source._source_file desc
            ) as version_rank
        from {{ source('raw', 'medical_claim') }} as source
        inner join touched_lines
            on source.claim_id = touched_lines.claim_id
            and source.claim_line_number = touched_lines.claim_line_number
            and nullif(source.data_source, '') is not distinct from touched_lines.data_source
    ) as ranked
    where ranked.version_rank = 1

),

held_lines as (

    select distinct held.claim_id, held.claim_line_number, held.claim_key, held._delivery, held._loaded_at
    from {{ this }} as held
    inner join touched_lines
        on held.claim_id = touched_lines.claim_id
        and held.claim_line_number = touched_lines.claim_line_number
        and held.claim_key = touched_lines.claim_key

),

changed_lines as (

    select latest.claim_id, latest.claim_line_number, latest.data_source, latest.claim_key, latest._delivery,
           latest._loaded_at
    from latest_versions as latest
    where not exists (
        select 1 from held_lines as held
        where held.claim_id = latest.claim_id
          and held.claim_line_number = latest.claim_line_number
          and held.claim_key = latest.claim_key
          and held._delivery is not distinct from latest._delivery
          and held._loaded_at is not distinct from latest._loaded_at
    )

),

deleted_lines as (

    select distinct held.claim_id, held.claim_line_number, held.claim_key
    from held_lines as held
    where not exists (
        select 1 from latest_versions as latest
        where latest.claim_id = held.claim_id and latest.claim_line_number = held.claim_line_number
          and latest.claim_key = held.claim_key
    )

)
{%- endmacro %}

{#- The latest delivered version of each claim line the build writes: every raw column, plus service_date and
    claim_key. -#}
{% macro latest_claim_line_versions() -%}
    {%- if is_incremental() -%}
    {%- set watermark = claim_watermark() -%}
    {#- the changed lines' rows: new versions from the loads after the watermark (a scan that skips the older
        loads), and versions from older loads only for lines that went back to one (then the build side is not
        empty and the older loads are read) -#}
    {%- for loads in (['new'] if watermark is none else ['new', 'older']) %}
    {% if not loop.first %}union all{% endif %}
    select
        source.*,
        coalesce(source.claim_line_start_date, source.claim_start_date) as service_date,
        latest.claim_key
    from {{ source('raw', 'medical_claim') }} as source
    inner join (
        select * from changed_lines
        where {{ loaded_since_watermark('_loaded_at') if loads == 'new' else 'not ' ~ loaded_since_watermark('_loaded_at') }}
    ) as latest
        on source.claim_id = latest.claim_id
        and source.claim_line_number = latest.claim_line_number
        and nullif(source.data_source, '') is not distinct from latest.data_source
        and source._delivery is not distinct from latest._delivery
        and source._loaded_at is not distinct from latest._loaded_at
    where {{ loaded_since_watermark('source._loaded_at') if loads == 'new' else 'not ' ~ loaded_since_watermark('source._loaded_at') }}
    {%- endfor %}
    {%- else -%}
    {# Every line: only keys delivered more than once have versions to rank, and grouping the keys is cheaper
       than ranking every wide row; the replaced versions (usually few) are then left out with an anti-join.
       repeated_keys groups claim_id and claim_line_number alone (the raw columns, no claim_key built for every
       row): two sources' lines that share them are ranked, each within its own data_source. #}
    with repeated_keys as (

        select claim_id, claim_line_number
        from {{ source('raw', 'medical_claim') }}
        group by claim_id, claim_line_number
        having count(*) > 1

    ),

    superseded as (

        select *
        from (
            select
                source.claim_id,
                source.claim_line_number,
                source._delivery,
                source._loaded_at,
                source._line_number,
                source._source_file,
                source.data_source,
                dense_rank() over (
                    partition by source.claim_id, source.claim_line_number, nullif(source.data_source, '')
                    order by source._delivery desc, source._loaded_at desc, source._line_number desc,
                             source._source_file desc
                ) as version_rank
            from {{ source('raw', 'medical_claim') }} as source
            inner join repeated_keys
                on source.claim_id = repeated_keys.claim_id
                and source.claim_line_number = repeated_keys.claim_line_number
        ) as ranked
        where ranked.version_rank > 1

    )

    {# null-safe: lineage columns may be empty in data not loaded by the ingestion #}
    select
        source.*,
        coalesce(source.claim_line_start_date, source.claim_start_date) as service_date,
        {{ claim_key('source.data_source', 'source.claim_id') }} as claim_key
    from {{ source('raw', 'medical_claim') }} as source
    where not exists (
        select 1
        from superseded
        where source.claim_id is not distinct from superseded.claim_id
          and source.claim_line_number is not distinct from superseded.claim_line_number
          and source.data_source is not distinct from superseded.data_source
          and source._delivery is not distinct from superseded._delivery
          and source._loaded_at is not distinct from superseded._loaded_at
          and source._line_number is not distinct from superseded._line_number
          and source._source_file is not distinct from superseded._source_file
    )
    {%- endif -%}
{%- endmacro %}

{#- On an incremental build: deletion markers (_deleted = true, every other column null) for the rows the model
    holds for the changed and deleted lines that the new rows (`new_rows`, a relation with the same key columns)
    do not replace. The incremental strategy writes them over the rows they name, and the model's post-hook
    (delete_deleted_rows) removes them. Nothing on a full build. -#}
{% macro claim_line_deletions(new_rows, key_columns, other_columns) -%}
    {%- set nulls = null_columns(other_columns) -%}
    {%- do nulls.append('cast(null as ' ~ dbt.type_string() ~ ') as _delivery') -%}
    {%- do nulls.append('cast(null as ' ~ dbt.type_timestamp() ~ ') as _loaded_at') -%}
    {{ deletion_markers(new_rows, key_columns, nulls,
                        '(select claim_id, claim_line_number, claim_key from changed_lines
                          union
                          select claim_id, claim_line_number, claim_key from deleted_lines)') }}
{%- endmacro %}

{#- `null as column` for each of `columns`. -#}
{% macro null_columns(columns) -%}
    {%- set nulls = [] -%}
    {%- for column in columns -%}
        {%- do nulls.append('null as ' ~ column) -%}
    {%- endfor -%}
    {{ return(nulls) }}
{%- endmacro %}

{#- The deletion markers of the claim staging (claim_line_deletions) and of the claim-line readers
    (claim_reader_deletions): the held rows of the `rewritten` lines (a relation of claim_id, claim_line_number,
    claim_key)
    that `new_rows` do not write again (by `key_columns`), with `nulls` (select expressions) for the other
    columns. Nothing on a full build. -#}
{% macro deletion_markers(new_rows, key_columns, nulls, rewritten) -%}
    {%- if is_incremental() %}
    union all

    select
        {% for column in key_columns %}held.{{ column }},
        {% endfor -%}
        {% for expression in nulls %}{{ expression }},
        {% endfor -%}
        true as _deleted
    from {{ this }} as held
    inner join {{ rewritten }} as rewritten
        on held.claim_id = rewritten.claim_id
        and held.claim_line_number = rewritten.claim_line_number
        and held.claim_key = rewritten.claim_key
    where not exists (
        select 1 from {{ new_rows }} as kept
        where {% for column in key_columns %}kept.{{ column }} = held.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
    {%- endif %}
{%- endmacro %}

{#- The post-hook of the incremental claim models: deletion markers have done their work once written. Nothing
    where the model is rebuilt whole (claim_materialization: Spark). -#}
{% macro delete_deleted_rows() -%}
    {%- if config.get('materialized') == 'incremental' %}
    delete from {{ this }} where _deleted
    {%- endif %}
{%- endmacro %}

{#- How the claim staging models are built: incremental where the engine can replace rows by key. Spark's tables
    here are Parquet, which has neither MERGE nor DELETE (those need Delta or Iceberg, whose jars the session
    cannot download offline), so on Spark the claim staging is a table rebuilt in full on every build; the SQL
    is the same, as is_incremental() is then false (docs/deploy.md). -#}
{% macro claim_materialization() -%}
    {{ return(adapter.dispatch('claim_materialization')()) }}
{%- endmacro %}

{% macro default__claim_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__claim_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- How an incremental claim model writes a build's rows over the rows with the same key: DuckDB deletes the
    keys and inserts; engines with MERGE (Delta or Iceberg tables, others) merge on the key. -#}
{% macro claim_incremental_strategy() -%}
    {{ return(adapter.dispatch('claim_incremental_strategy')()) }}
{%- endmacro %}

{% macro default__claim_incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__claim_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
