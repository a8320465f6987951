{#- The rehab engine gives each case its measure's stratum id: a rehab measure has exactly one (measure_strata). -#}
{#- Dagster shows it as a check of measure_strata (dagster-dbt warned on every run about a singular test of several refs) -#}
{{ config(meta={'dagster': {'ref': {'name': 'measure_strata'}}}) }}
select strata.measure_id, count(distinct strata.stratum) as strata
from {{ ref('measure_strata') }} as strata
inner join {{ ref('measures') }} as measures
    on strata.measure_id = measures.measure_id
where measures.family = 'rehab'
group by strata.measure_id
having count(distinct strata.stratum) <> 1
