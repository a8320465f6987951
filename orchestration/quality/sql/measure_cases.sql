-- outcome_key lets one in-set expectation check the (measure, stratum, status, code) combination.
select
    person_id,
    measure_id,
    stratum,
    index_date,
    status,
    qdc_code,
    residual,
    performance_year,
    concat_ws('|', measure_id, stratum, status, coalesce(qdc_code, '')) as outcome_key
from marts.measure_cases
