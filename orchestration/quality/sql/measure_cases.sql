-- outcome_key lets one in-set expectation check the (measure, stratum, status, code) combination;
-- residual_decides marks the cases whose code a residual decides (met / not met of a rehab measure: registry).
select
    cases.person_id,
    cases.measure_id,
    cases.stratum,
    cases.index_date,
    cases.status,
    cases.qdc_code,
    cases.residual,
    cases.performance_year,
    concat_ws('|', cases.measure_id, cases.stratum, cases.status, coalesce(cases.qdc_code, '')) as outcome_key,
    coalesce(measures.family = 'rehab' and cases.status in ('met', 'not_met'), false) as residual_decides
from marts.measure_cases as cases
left join reference.measures as measures
    on cases.measure_id = measures.measure_id
