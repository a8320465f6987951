{#- The incremental claim staging (base_medical_claim, base_claim_diagnosis, base_claim_modifier): which claim
    lines a build processes, their latest delivered version, and the rows that must go (docs/performance.md,
    "Incremental claim staging").

    A full build processes every line. An incremental build processes only the lines a load since the model's
    watermark (the latest _loaded_at among its rows) touches: the keys of the raw rows loaded since then, and the
    keys the model holds from a delivery that was loaded again since then or whose rows are all gone (a
    re-delivered file replaces its delivery's rows: lines it no longer carries, or that are now quarantined,
    lose that version). Every raw version of those keys is ranked again, so a late delivery of an older month
    never wins over a newer one, and a line left with no version is deleted.

    The latest version: highest _delivery, then _loaded_at, then _line_number, then _source_file. dense_rank:
    two versions with the same lineage cannot be told apart, so neither is dropped and the uniqueness test of
    base_medical_claim reports them. -#}

{#- Raw rows loaded after the model's watermark; every row on a full build. Rows without lineage (written by
    hand, not by the ingestion) count as new on every build. -#}
{% macro claim_lines_loaded_since_watermark() -%}
    select source.claim_id, source.claim_line_number, source._delivery
    from {{ source('raw', 'medical_claim') }} as source
    cross join (select max(_loaded_at) as loaded_at from {{ this }}) as watermark
    where watermark.loaded_at is null
       or source._loaded_at is null
       or source._loaded_at > watermark.loaded_at
{%- endmacro %}

{#- The keys (claim_id, claim_line_number) an incremental build of the calling model processes. -#}
{% macro touched_claim_lines() -%}
    with new_versions as (

        {{ claim_lines_loaded_since_watermark() }}

    ),

    replaced_deliveries as (

        {# a delivery loaded again since the watermark: the lines the model holds from it may have lost that version #}
        select distinct coalesce(_delivery, '') as delivery from new_versions

        union

        {# a delivery whose rows are all gone (re-delivered with every line quarantined, or empty) #}
        select held.delivery
        from (select distinct coalesce(_delivery, '') as delivery from {{ this }}) as held
        where not exists (
            select 1 from {{ source('raw', 'medical_claim') }} as source
            where coalesce(source._delivery, '') = held.delivery
        )

    )

    select claim_id, claim_line_number from new_versions

    union

    select held.claim_id, held.claim_line_number
    from {{ this }} as held
    inner join replaced_deliveries
        on coalesce(held._delivery, '') = replaced_deliveries.delivery
{%- endmacro %}

{#- The latest delivered version of each claim line the build processes: every raw column, plus service_date.
    `touched`: the relation of touched_claim_lines() (incremental builds only). -#}
{% macro latest_claim_line_versions(touched) -%}
    {%- if is_incremental() -%}
    select ranked.*
    from (
        select
            source.*,
            coalesce(source.claim_line_start_date, source.claim_start_date) as service_date,
            dense_rank() over (
                partition by source.claim_id, source.claim_line_number
                order by source._delivery desc, source._loaded_at desc, source._line_number desc,
                         source._source_file desc
            ) as _version_rank
        from {{ source('raw', 'medical_claim') }} as source
        inner join {{ touched }} as touched
            on source.claim_id = touched.claim_id
            and source.claim_line_number = touched.claim_line_number
    ) as ranked
    where ranked._version_rank = 1
    {%- else -%}
    {# Every line: only keys delivered more than once have versions to rank, and grouping the keys is cheaper
       than ranking every wide row; the replaced versions (usually few) are then left out with an anti-join. #}
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
                dense_rank() over (
                    partition by source.claim_id, source.claim_line_number
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
        coalesce(source.claim_line_start_date, source.claim_start_date) as service_date
    from {{ source('raw', 'medical_claim') }} as source
    where not exists (
        select 1
        from superseded
        where source.claim_id is not distinct from superseded.claim_id
          and source.claim_line_number is not distinct from superseded.claim_line_number
          and source._delivery is not distinct from superseded._delivery
          and source._loaded_at is not distinct from superseded._loaded_at
          and source._line_number is not distinct from superseded._line_number
          and source._source_file is not distinct from superseded._source_file
    )
    {%- endif -%}
{%- endmacro %}

{#- On an incremental build: the rows the model holds for the processed lines (`touched`) that the new rows
    (`new_rows`, a relation with the same key columns) do not replace, as deletion markers (_deleted = true; every other column
    null). The incremental strategy writes them over the rows they name, and the model's post-hook
    (delete_deleted_rows) removes them. Nothing on a full build. -#}
{% macro claim_line_deletions(new_rows, touched, key_columns, other_columns) -%}
    {%- if is_incremental() %}
    union all

    select
        {% for column in key_columns %}held.{{ column }},
        {% endfor -%}
        {% for column in other_columns %}null as {{ column }},
        {% endfor -%}
        cast(null as {{ dbt.type_string() }}) as _delivery,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        true as _deleted
    from {{ this }} as held
    inner join {{ touched }} as touched
        on held.claim_id = touched.claim_id
        and held.claim_line_number = touched.claim_line_number
    where not exists (
        select 1 from {{ new_rows }} as kept
        where {% for column in key_columns %}kept.{{ column }} = held.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
    {%- endif %}
{%- endmacro %}

{#- The post-hook of the incremental claim models: deletion markers have done their work once written. -#}
{% macro delete_deleted_rows() -%}
    delete from {{ this }} where _deleted
{%- endmacro %}

{#- How an incremental claim model writes a build's rows over the rows with the same key: DuckDB deletes the
    keys and inserts; engines with MERGE (Spark on Delta or Iceberg, others) merge on the key. -#}
{% macro claim_incremental_strategy() -%}
    {{ return(adapter.dispatch('claim_incremental_strategy')()) }}
{%- endmacro %}

{% macro default__claim_incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__claim_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
