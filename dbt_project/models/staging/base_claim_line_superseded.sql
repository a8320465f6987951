{#- The claim line versions that a later delivery replaced: every version of a (claim_id, claim_line_number)
    but the latest (by _delivery, then _loaded_at, then _line_number, then _source_file). Usually a small
    table, so base_medical_claim can drop these rows with an anti-join instead of ranking every wide row.
    dense_rank: two versions with the same lineage cannot be told apart, so neither is dropped and the
    uniqueness test of stg_medical_claim reports them. -#}
with source as (

    select * from {{ source('raw', 'medical_claim') }}

),

{#- only keys delivered more than once have versions to rank: grouping the keys is cheaper than ranking all -#}
repeated_keys as (

    select
        claim_id,
        claim_line_number
    from source
    group by claim_id, claim_line_number
    having count(*) > 1

),

ranked_versions as (

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
    from source
    inner join repeated_keys
        on source.claim_id = repeated_keys.claim_id
        and source.claim_line_number = repeated_keys.claim_line_number

)

select
    claim_id,
    claim_line_number,
    _delivery,
    _loaded_at,
    _line_number,
    _source_file
from ranked_versions
where version_rank > 1
