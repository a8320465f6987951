-- Distinct codes only: the code set is checked once per code, with the number of lines carrying it.
-- valid_icd10_cm_codes is a DataFrame of billable codes registered by the caller.
with codes as (
    select diagnosis_code, count(*) as claim_lines
    from staging.stg_claim_diagnosis
    group by diagnosis_code
)

select
    codes.diagnosis_code,
    codes.claim_lines,
    case when valid.code is null then codes.diagnosis_code end as invalid_diagnosis_code
from codes
left join valid_icd10_cm_codes as valid on codes.diagnosis_code = valid.code
