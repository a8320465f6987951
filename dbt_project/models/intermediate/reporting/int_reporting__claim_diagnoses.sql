{#- The diagnoses of the claims that carry a billing code (any line's diagnosis counts for the whole claim).
    Grain - one row per claim_id and diagnosis_code. -#}
with diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }}

),

coded_claims as (

    select distinct claim_id from {{ ref('int_reporting__code_lines') }}

)

select distinct diagnoses.claim_id, diagnoses.diagnosis_code
from diagnoses
inner join coded_claims
    on diagnoses.claim_id = coded_claims.claim_id
