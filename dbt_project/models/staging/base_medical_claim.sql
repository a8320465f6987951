{#- Claim lines as they stand now: the latest delivered version of each (claim_id, claim_line_number),
    with every raw column kept so the diagnosis and modifier unpivots read one deduplicated table. Lines
    dated after the as-of date are dropped after deduplication, so a later correction of the date wins. -#}
with source as (

    select * from {{ source('raw', 'medical_claim') }}

),

ranked as (

    select
        *,
        coalesce(claim_line_start_date, claim_start_date) as service_date,
        row_number() over (
            partition by claim_id, claim_line_number
            order by _delivery desc, _loaded_at desc, _line_number desc
        ) as version_rank
    from source

)

select *
from ranked
where version_rank = 1
  and service_date <= cast('{{ var("as_of_date") }}' as date)
