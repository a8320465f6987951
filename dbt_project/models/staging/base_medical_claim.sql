{#- Claim lines as they stand now: the latest delivered version of each (claim_id, claim_line_number),
    with every raw column kept, for the staging models of claims, diagnoses and modifiers. Lines dated after
    the as-of date are dropped after deduplication, so a later correction of the date wins.
    A view: each of its three readers reads only its own columns of it, where a table wrote every 60-column
    row once more. The latest version is decided on the keys and lineage alone and joined back, because
    ranking whole rows sorts every wide row (docs/performance.md, section Stages). -#}
{{ config(materialized='view') }}

with source as (

    select * from {{ source('raw', 'medical_claim') }}

),

ranked_versions as (

    select
        claim_id,
        claim_line_number,
        _delivery,
        _loaded_at,
        _line_number,
        _source_file,
        row_number() over (
            partition by claim_id, claim_line_number
            order by _delivery desc, _loaded_at desc, _line_number desc
        ) as version_rank
    from source

),

latest_versions as (

    select *
    from ranked_versions
    where version_rank = 1

),

latest_lines as (

    {#- a semi-join, so that the narrow key set is the side held in memory; null-safe, because lineage
        columns may be empty in data not loaded by the ingestion -#}
    select
        source.*,
        coalesce(source.claim_line_start_date, source.claim_start_date) as service_date,
        cast(1 as bigint) as version_rank
    from source
    where exists (
        select 1
        from latest_versions
        where source.claim_id is not distinct from latest_versions.claim_id
          and source.claim_line_number is not distinct from latest_versions.claim_line_number
          and source._delivery is not distinct from latest_versions._delivery
          and source._loaded_at is not distinct from latest_versions._loaded_at
          and source._line_number is not distinct from latest_versions._line_number
          and source._source_file is not distinct from latest_versions._source_file
    )

)

select *
from latest_lines
where service_date <= cast('{{ var("as_of_date") }}' as date)
