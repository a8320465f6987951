{#- Claim lines as they stand now: the latest delivered version of each (claim_id, claim_line_number),
    with every raw column kept, for the staging models of claims, diagnoses and modifiers. Lines dated after
    the as-of date are dropped after deduplication, so a later correction of the date wins.
    A view: each reader reads only its own columns of the raw table. The replaced versions are a small
    table (base_claim_line_superseded) to leave out, where ranking here would sort every wide row once per
    reader (docs/performance.md, section Stages). -#}
{{ config(materialized='view') }}

with source as (

    select * from {{ source('raw', 'medical_claim') }}

),

superseded as (

    select * from {{ ref('base_claim_line_superseded') }}

),

latest_lines as (

    {#- null-safe: lineage columns may be empty in data not loaded by the ingestion -#}
    select
        source.*,
        coalesce(source.claim_line_start_date, source.claim_start_date) as service_date
    from source
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

)

select *
from latest_lines
where service_date <= cast('{{ var("as_of_date") }}' as date)
