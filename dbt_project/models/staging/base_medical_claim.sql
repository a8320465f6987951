{#- Claim lines as they stand now: the latest delivered version of each (claim_id, claim_line_number,
    data_source) - Tuva's grain; claim_key (macros/claim_key.sql) is the claim, data_source with claim_id - of every
    date, with the columns the measures and the publication read, trimmed and normalized. What can change without
    a new claim line is left to the readers: the as-of date, and the payer and payer type the payer patterns and
    the enrollment give (stg_medical_claim). The rest of Tuva's claim line (claim type, plan, billing provider,
    charges) stays in raw.medical_claim.
    Incremental: a build processes only the lines the loads since the last build touch
    (macros/claim_line_versions.sql); diagnoses and modifiers follow in base_claim_diagnosis and
    base_claim_modifier. -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy=claim_incremental_strategy(),
    unique_key=['claim_key', 'claim_line_number'],
    on_schema_change='fail',
    post_hook="{{ delete_deleted_rows() }}",
) }}
{{- claim_reader_upgrade(['claim_key']) }}

with

{% if is_incremental() -%}
{{ claim_line_changes() }},
{%- endif %}

versions as (

    {{ latest_claim_line_versions() }}

),

lines as (

    select
        claim_id,
        claim_line_number,
        claim_key,
        nullif(data_source, '') as data_source,
        person_id,
        nullif(trim(payer), '') as payer,
        {{ normalize_payer_key('payer') }} as payer_key,
        service_date,
        nullif(trim(place_of_service_code), '') as place_of_service_code,
        {#- a line without a code is no code line (its diagnoses still count, base_claim_diagnosis) -#}
        nullif(upper(trim(hcpcs_code)), '') as hcpcs_code,
        service_unit_quantity,
        nullif(trim(rendering_npi), '') as rendering_npi,
        {#- TINs as 9 digits: hyphens and blanks some files carry are left out (as in MEASURE_220_TINS) -#}
        nullif(replace(replace(trim(rendering_tin), '-', ''), ' ', ''), '') as rendering_tin,
        allowed_amount,
        paid_amount,
        _delivery,
        _loaded_at,
        false as _deleted
    from versions

)

select * from lines
{{ claim_line_deletions('lines', ['claim_id', 'claim_line_number', 'claim_key'],
                        ['data_source', 'person_id', 'payer', 'payer_key', 'service_date', 'place_of_service_code', 'hcpcs_code',
                         'service_unit_quantity', 'rendering_npi', 'rendering_tin', 'allowed_amount',
                         'paid_amount']) }}
