{#- The registry's first and last performance years are CMS's (qpp_measure_years, every year it lists the
    measure): fails with each disagreeing year row. -#}
{#- Dagster shows it as a check of measures (dagster-dbt warned on every run about a singular test of several refs) -#}
{{ config(meta={'dagster': {'ref': {'name': 'measures'}}}) }}
select
    measures.measure_id,
    measures.first_performance_year,
    measures.last_performance_year,
    cms.performance_year,
    cms.first_performance_year as cms_first_performance_year,
    cms.last_performance_year as cms_last_performance_year
from {{ ref('measures') }} as measures
inner join {{ ref('qpp_measure_years') }} as cms
    on measures.measure_id = cms.measure_id
where measures.first_performance_year <> cms.first_performance_year
   or coalesce(measures.last_performance_year, -1) <> coalesce(cms.last_performance_year, -1)
