{#- The claim lines the code tables count: every staged line with a billing code and a service date, with the
    rendering provider's taxonomy and the calendar year and quarter of the service date. A missing payer,
    place of service or taxonomy is reported as '(unknown)' rather than dropped. Grain - one row per claim_id,
    claim_line_number and data_source (claim_key: the claim, data_source with claim_id).
    Incremental (macros/claim_line_readers.sql): a build rewrites the lines with a new version, those the as-of
    date lets in or out, and the held lines whose payer, payer type or taxonomy the payer patterns, the enrollment
    or the provider file now give differently (the delivered payer name and its key are kept for that). -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy=claim_incremental_strategy(),
    unique_key=['claim_key', 'claim_line_number'],
    on_schema_change='fail',
    post_hook="{{ delete_deleted_rows() }}",
) }}
{{- claim_reader_upgrade() }}

{%- set reference = claim_reader_reference([], [claim_lines_with_payer('claims')]) %}

{#- held lines whose payer, payer type or taxonomy would now be another: the payer patterns, the person's
    enrollment or the provider file changed (the as-of date moves enrollment spans in, too) -#}
{%- set held_changes %}
    select held.claim_id, held.claim_line_number, held.claim_key
    from {{ this }} as held
    {{ payer_joins('held', '_payer_key', '_delivered_payer') }}
    left join {{ ref('stg_provider') }} as providers
        on held.rendering_npi = providers.npi
    where coalesce(payers.payer, held._delivered_payer, '(unknown)') <> held.payer
       or {{ resolved_payer_type() }} <> held.payer_type
       or coalesce(providers.taxonomy_code, '(unknown)') <> held.taxonomy_code
{%- endset %}

with

{% if is_incremental() -%}
{{ claim_reader_touched_lines(held_changes=held_changes, reference=reference,
                              as_of="cast('" ~ run_var('as_of_date') ~ "' as date)") }},
{%- endif %}

claims as (

    select *, payer as _delivered_payer
    from {{ ref('base_medical_claim') }} as claims
    where service_date <= cast('{{ run_var("as_of_date") }}' as date)
    {{- on_touched_lines('claims') }}

),

lines as (

    {{ claim_lines_with_payer('claims', ['_delivered_payer', 'payer_key', '_delivery', '_loaded_at']) }}

),

code_lines as (

    select
        lines.claim_id,
        lines.claim_line_number,
        lines.claim_key,
        lines.person_id,
        lines.hcpcs_code as code,
        coalesce(lines.payer, '(unknown)') as payer,
        lines.payer_type,
        coalesce(lines.place_of_service_code, '(unknown)') as place_of_service_code,
        lines.rendering_npi,
        coalesce(providers.taxonomy_code, '(unknown)') as taxonomy_code,
        lines.rendering_tin,
        lines.service_unit_quantity as units,
        lines.allowed_amount,
        lines.paid_amount,
        lines.service_date,
        cast(extract(year from lines.service_date) as {{ dbt.type_bigint() }}) as year,
        cast(extract(quarter from lines.service_date) as {{ dbt.type_bigint() }}) as quarter,
        lines._delivered_payer,
        lines.payer_key as _payer_key,
        lines._delivery,
        lines._loaded_at,
        {{ reference }} as _reference_digest,
        false as _deleted
    from lines
    left join {{ ref('stg_provider') }} as providers
        on lines.rendering_npi = providers.npi
    where lines.hcpcs_code is not null
        and lines.service_date is not null

)

select * from code_lines
{{ claim_reader_deletions('code_lines', ['claim_id', 'claim_line_number', 'claim_key'],
                          ['person_id', 'code', 'payer', 'payer_type', 'place_of_service_code', 'rendering_npi',
                           'taxonomy_code', 'rendering_tin', 'units', 'allowed_amount', 'paid_amount',
                           'service_date', 'year', 'quarter', '_delivered_payer', '_payer_key', '_delivery',
                           '_loaded_at', '_reference_digest']) }}
