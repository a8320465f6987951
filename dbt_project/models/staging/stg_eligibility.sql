{#- Enrollment spans, deduplicated on the contract key (latest delivery wins); spans starting after the
    as-of date are ignored. Rebuilt only when its inputs changed (macros/rebuilt_when_inputs_change.sql). -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_when_inputs_changed(eligibility_inputs_digest(\"cast('\" ~ run_var('as_of_date') ~ \"' as date)\")) }}",
) }}
{%- set inputs = eligibility_inputs_digest("cast('" ~ run_var('as_of_date') ~ "' as date)") %}

with source as (

    select * from {{ source('raw', 'eligibility') }}

),

payers as (

    select * from {{ ref('stg_payer_spellings') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id, enrollment_start_date, payer, plan
            order by _delivery desc, _loaded_at desc, _line_number desc
        ) as version_rank
    from source
    where enrollment_start_date is null
       or enrollment_start_date <= cast('{{ run_var("as_of_date") }}' as date)

)

select
    ranked.person_id,
    ranked.birth_date,
    {{ normalize_sex('ranked.gender') }} as sex,
    coalesce(by_name.payer, nullif(trim(ranked.payer), '')) as payer,
    {#- the delivered payer type (read with the payer's name: "medicare" with a carrier is Medicare Advantage)
        is more specific than the generic type of the payer's name -#}
    coalesce(by_type.payer_type, by_name.payer_type, 'other') as payer_type,
    nullif(trim(ranked.plan), '') as plan,
    ranked.enrollment_start_date,
    ranked.enrollment_end_date,
    {{ inputs }} as _inputs_digest
from ranked
left join payers as by_name
    on {{ normalize_payer_key('ranked.payer') }} = by_name.spelling
left join payers as by_type
    on {{ enrollment_type_key('ranked.payer_type', 'ranked.payer') }} = by_type.spelling
where ranked.version_rank = 1
{{ only_when_inputs_changed(inputs) }}
