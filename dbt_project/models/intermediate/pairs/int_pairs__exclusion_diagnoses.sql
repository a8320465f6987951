{#- The diagnoses of the exclusion value sets (exclusion_diagnoses_lumbar), with the performance years each code
    belongs to its set. A table of its own: the value sets are small, so this is a small table, and the case join
    in int_pairs__exclusions then stays a cheap join of two small tables (in one query with the case table the
    engine may join the cases to the codes first and probe every diagnosis with the result).
    Grain - one row per diagnosis line and value-set row. -#}
with diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }}

),

exclusion_codes as (

    select * from {{ ref('exclusion_diagnoses_lumbar') }}

)

select
    diagnoses.person_id,
    diagnoses.service_date,
    diagnoses.diagnosis_code,
    exclusion_codes.value_set,
    exclusion_codes.performance_year_from,
    exclusion_codes.performance_year_to
from diagnoses
inner join exclusion_codes
    on diagnoses.diagnosis_code = exclusion_codes.diagnosis_code
