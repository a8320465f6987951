{#- The unit digests the code tables were built from: written after every by-unit model (the depends_on lines),
    so that an interrupted build leaves the previous digests and the next build rebuilds what it had touched.
    Grain - one row per code and year. -#}
-- depends_on: {{ ref('code_overview') }}
-- depends_on: {{ ref('code_by_payer') }}
-- depends_on: {{ ref('code_by_place_of_service') }}
-- depends_on: {{ ref('code_by_provider_taxonomy') }}
-- depends_on: {{ ref('code_modifiers') }}
-- depends_on: {{ ref('code_related_diagnoses') }}
-- depends_on: {{ ref('code_related_procedures') }}
{{ config(materialized=reporting_digests_materialization()) }}

select code, year, digest, reference_digest
from {{ ref('int_reporting__unit_digests') }}
where digest is not null
