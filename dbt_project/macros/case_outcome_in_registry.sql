{#- Fails with the cases whose measure and stratum are not in measure_strata, or whose code is not the code the
    registry gives their measure, stratum and outcome in their performance year (measure_codes); cases without
    a code (pending, not_eligible) must have none. -#}
{% test case_outcome_in_registry(model, codes, strata, statuses_without_code) %}
with cases as (
    select measure_id, stratum, status, qdc_code, performance_year from {{ model }}
),
known_strata as (
    select distinct measure_id, stratum from {{ strata }}
)
select cases.*
from cases
left join known_strata
    on cases.measure_id = known_strata.measure_id
    and cases.stratum = known_strata.stratum
where known_strata.measure_id is null
   or (cases.status in ('{{ statuses_without_code | join("', '") }}') and cases.qdc_code is not null)
   or (cases.status not in ('{{ statuses_without_code | join("', '") }}') and not exists (
        select 1
        from {{ codes }} as codes
        where codes.measure_id = cases.measure_id
          and codes.stratum = cases.stratum
          and codes.outcome = cases.status
          and codes.code = cases.qdc_code
          and {{ year_in_range('cases.performance_year', 'codes.performance_year_from', 'codes.performance_year_to') }}
   ))
{% endtest %}
