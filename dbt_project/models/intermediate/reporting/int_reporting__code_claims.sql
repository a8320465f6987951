{#- Each claim's billing codes by the quarter they were billed in: what the related-code tables pair on.
    Grain - one row per code, claim_id, year and quarter. -#}
select distinct code, claim_id, person_id, year, quarter
from {{ ref('int_reporting__code_lines') }}
