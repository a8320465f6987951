{#- Each claim's billing codes by the quarter they were billed in: what the related-code tables pair on. A view:
    its readers rebuild only the touched units (macros/reporting_units.sql), whose code and year filter the lines.
    Grain - one row per code, claim_id, year and quarter. -#}
{{ config(materialized='view') }}

select distinct code, claim_id, person_id, year, quarter
from {{ ref('int_reporting__code_lines') }}
