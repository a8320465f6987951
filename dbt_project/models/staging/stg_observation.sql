{#- Scores. An observation delivered again (same observation_id) keeps its latest version; rows without
    an id are kept as delivered. The score is null when the result is not numeric (the text stays in
    result_text); the instrument is null when the code is not in the instruments seed. -#}
with source as (

    select * from {{ source('raw', 'observation') }}

),

instruments as (

    select * from {{ ref('instruments') }}

),

ranked as (

    select
        *,
        case
            when observation_id is null then 1
            else row_number() over (
                partition by observation_id
                order by _delivery desc, _loaded_at desc, _line_number desc
            )
        end as version_rank
    from source
    where observation_date <= cast('{{ var("as_of_date") }}' as date)

),

normalized as (

    select
        person_id,
        observation_date,
        upper(trim(coalesce(nullif(trim(normalized_code), ''), source_code))) as code,
        trim(result) as result_text
    from ranked
    where version_rank = 1

)

select
    normalized.person_id,
    normalized.observation_date,
    normalized.code,
    instruments.instrument,
    normalized.result_text,
    {{ try_cast('normalized.result_text', 'decimal(9,3)') }} as score
from normalized
left join instruments
    on normalized.code = upper(instruments.code)
