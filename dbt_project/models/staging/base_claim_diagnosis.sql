{#- Diagnoses of the latest version of each claim line, every date: Tuva's input layer carries
    diagnosis_code_1..25 (orchestration/contract.py MAX_DIAGNOSES); one row per filled position.
    Incremental, as base_medical_claim (macros/claim_line_versions.sql): a line with a new latest version has
    its positions written again, and the positions it no longer fills are deleted. -#}
{{ config(
    materialized=claim_materialization(),
    incremental_strategy=claim_incremental_strategy(),
    unique_key=['claim_key', 'claim_line_number', 'diagnosis_position'],
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

    {{ unpivot_positions('versions', ['claim_id', 'claim_line_number', 'claim_key', 'data_source', 'person_id', 'service_date', '_delivery',
                                      '_loaded_at'],
                         'diagnosis_code_', var('claim_diagnosis_positions'), 'diagnosis_position', 'raw_code') }}

),

diagnoses as (

    select
        claim_id,
        claim_line_number,
        claim_key,
        diagnosis_position,
        nullif(data_source, '') as data_source,
        person_id,
        service_date,
        {{ normalize_icd10('raw_code') }} as diagnosis_code,
        _delivery,
        _loaded_at,
        false as _deleted
    from unpivoted
    where {{ normalize_icd10('raw_code') }} <> ''

)

select * from diagnoses
{{ claim_line_deletions('diagnoses', ['claim_id', 'claim_line_number', 'claim_key', 'diagnosis_position'],
                        ['data_source', 'person_id', 'service_date', 'diagnosis_code']) }}
