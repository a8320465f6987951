with source as (

    select * from {{ source('raw', 'provider') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by trim(npi)
            order by _delivery desc, _loaded_at desc, _line_number desc
        ) as version_rank
    from source

)

select
    trim(npi) as npi,
    upper(trim(primary_taxonomy_code)) as taxonomy_code
from ranked
where version_rank = 1
