{#- HCPCS modifiers of the latest version of each claim line, every date: Tuva's input layer carries
    hcpcs_modifier_1..5 (orchestration/contract.py MAX_MODIFIERS); one row per filled position. The line's
    service date is kept for the as-of date (stg_claim_modifier).
    Incremental, as base_medical_claim (macros/claim_line_versions.sql). -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy=claim_incremental_strategy(),
    unique_key=['claim_key', 'claim_line_number', 'modifier_position'],
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

unpivoted as (

    {{ unpivot_positions('versions', ['claim_id', 'claim_line_number', 'claim_key', 'data_source', 'service_date', '_delivery', '_loaded_at'],
                         'hcpcs_modifier_', var('claim_modifier_positions'), 'modifier_position', 'raw_modifier') }}

),

modifiers as (

    select
        claim_id,
        claim_line_number,
        claim_key,
        modifier_position,
        nullif(data_source, '') as data_source,
        service_date,
        upper(trim(raw_modifier)) as modifier,
        _delivery,
        _loaded_at,
        false as _deleted
    from unpivoted
    where trim(raw_modifier) <> ''

)

select * from modifiers
{{ claim_line_deletions('modifiers', ['claim_id', 'claim_line_number', 'claim_key', 'modifier_position'],
                        ['data_source', 'service_date', 'modifier']) }}
