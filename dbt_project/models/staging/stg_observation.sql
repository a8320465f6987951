{#- Scores. An observation delivered again (same observation_id) keeps its latest version; rows without
    an id are kept as delivered. The score is null when the result is not a number (optionally with a unit
    word: parse_score; the text stays in result_text). The instrument is looked up by normalized_code, then
    by source_code (a source may normalize to a code the instruments seed does not know), LOINC codes with
    or without their check-digit hyphen or with the number alone; it is null when neither code is known. -#}
with source as (

    select * from {{ source('raw', 'observation') }}

),

instruments as (

    select * from {{ ref('instruments') }}

),

instrument_keys as (

    select distinct
        {{ normalize_observation_code('code') }} as code_key,
        instrument
    from instruments

    union

    select distinct
        {{ normalize_observation_code(dbt.split_part('code', "'-'", 1)) }} as code_key,
        instrument
    from instruments
    where lower(code_system) = 'loinc'

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
    where observation_date <= cast('{{ run_var("as_of_date") }}' as date)

),

normalized as (

    select
        person_id,
        observation_date,
        upper(trim(coalesce(nullif(trim(normalized_code), ''), source_code))) as code,
        upper(trim(source_code)) as source_code,
        {{ normalize_observation_code('normalized_code') }} as normalized_key,
        {{ normalize_observation_code('source_code') }} as source_key,
        trim(result) as result_text
    from ranked
    where version_rank = 1

)

select
    normalized.person_id,
    normalized.observation_date,
    case
        when by_normalized.instrument is null and by_source.instrument is not null then normalized.source_code
        else normalized.code
    end as code,
    coalesce(by_normalized.instrument, by_source.instrument) as instrument,
    normalized.result_text,
    {{ parse_score('normalized.result_text', 'decimal(9,3)') }} as score
from normalized
left join instrument_keys as by_normalized
    on normalized.normalized_key = by_normalized.code_key
left join instrument_keys as by_source
    on normalized.source_key = by_source.code_key
