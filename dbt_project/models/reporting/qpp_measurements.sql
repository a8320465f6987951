{#- What the QPP submission files carry (docs/published_tables.md, QPP submission files): for every TIN,
    performance year and measure with a counted case (excluded or in the eligible population) whose measure CMS
    defines that year with a metric type the pipeline computes, one row per stratum CMS lists (zero or not),
    under CMS's name for that year (qpp_stratum null in a single-rate year). performance_not_met = not met +
    not measured (not measured counts as not met); excluded cases leave the eligible population. Counts are
    exact: a submission must match the clinical record. Grain - one row per tin, performance_year, measure_id
    and stratum. -#}
with tin_rows as (

    select * from {{ ref('measure_performance') }}
    where entity_level = 'tin'
        and tin is not null

),

counted as (

    select tin, performance_year, measure_id
    from tin_rows
    where stratum = 'all'
        and excluded + eligible_population > 0

),

defined_strata as (

    select measure_id, stratum, performance_year, metric_type, qpp_stratum
    from {{ ref('measure_stratum_years') }}
    where not_eligible_reason is null

)

select
    counted.tin,
    counted.performance_year,
    counted.measure_id,
    defined_strata.stratum,
    defined_strata.metric_type,
    defined_strata.qpp_stratum,
    coalesce(tin_rows.met, 0) as performance_met,
    coalesce(tin_rows.not_met + tin_rows.not_measured, 0) as performance_not_met,
    coalesce(tin_rows.eligible_population, 0) as eligible_population
from counted
inner join defined_strata
    on counted.measure_id = defined_strata.measure_id
    and counted.performance_year = defined_strata.performance_year
left join tin_rows
    on counted.tin = tin_rows.tin
    and counted.performance_year = tin_rows.performance_year
    and counted.measure_id = tin_rows.measure_id
    and defined_strata.stratum = tin_rows.stratum
