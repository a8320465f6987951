{#- Every billing code on the claims and every quality-data code of the seed, with its code system,
    descriptor, volume over all periods and the cases assigned it. Grain - one row per code. -#}
with descriptors as (

    select * from {{ ref('int_reporting__code_descriptors') }}

),

lines as (

    select
        code,
        count(*) as claim_lines,
        count(distinct claim_key) as claims,
        count(distinct person_id) as persons,
        min(service_date) as first_service_date,
        max(service_date) as last_service_date
    from {{ ref('int_reporting__code_lines') }}
    group by code

),

cases as (

    select qdc_code as code, count(*) as cases_assigned
    from {{ ref('measure_cases') }}
    where qdc_code is not null
    group by qdc_code

)

select
    descriptors.code,
    descriptors.code_type,
    descriptors.is_quality_data_code,
    descriptors.descriptor,
    descriptors.descriptor_source,
    descriptors.measure_note,
    descriptors.role_note,
    descriptors.qdc_status,
    coalesce(lines.claim_lines, 0) as claim_lines,
    coalesce(lines.claims, 0) as claims,
    coalesce(lines.persons, 0) as persons,
    coalesce(cases.cases_assigned, 0) as cases_assigned,
    lines.first_service_date,
    lines.last_service_date
from descriptors
left join lines
    on descriptors.code = lines.code
left join cases
    on descriptors.code = cases.code
