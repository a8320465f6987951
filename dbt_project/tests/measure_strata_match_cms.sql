{#- The project's strata mapping (measure_strata) checked against CMS's measure data for every year CMS defines a
    measure with a metric type the pipeline computes: a multi-rate year maps exactly CMS's strata names (no
    more, no fewer, CMS's spelling); a single-rate year has exactly one stratum and no QPP stratum name.
    Fails with each disagreement. -#}
{#- Dagster shows it as a check of measure_stratum_years (dagster-dbt warned on every run about a singular test of several refs) -#}
{{ config(meta={'dagster': {'ref': {'name': 'measure_stratum_years'}}}) }}
with computed_years as (

    select cms.measure_id, cms.performance_year, cms.metric_type
    from {{ ref('qpp_measure_years') }} as cms
    inner join {{ ref('qpp_metric_types') }} as metric_types
        on cms.metric_type = metric_types.metric_type
    inner join {{ ref('measures') }} as measures
        on cms.measure_id = measures.measure_id
    where metric_types.is_computed

),

mapped as (

    select measure_id, performance_year, stratum, qpp_stratum
    from {{ ref('measure_stratum_years') }}
    where not_eligible_reason is null

),

cms_strata as (

    select strata.measure_id, strata.performance_year, strata.qpp_stratum
    from {{ ref('qpp_measure_strata') }} as strata
    inner join computed_years
        on strata.measure_id = computed_years.measure_id
        and strata.performance_year = computed_years.performance_year
    where computed_years.metric_type = 'multiPerformanceRate'

),

multi_rate_mismatches as (

    select
        coalesce(mapped.measure_id, cms_strata.measure_id) as measure_id,
        coalesce(mapped.performance_year, cms_strata.performance_year) as performance_year,
        mapped.qpp_stratum as mapped_name,
        cms_strata.qpp_stratum as cms_name
    from (
        select mapped.*
        from mapped
        inner join computed_years
            on mapped.measure_id = computed_years.measure_id
            and mapped.performance_year = computed_years.performance_year
        where computed_years.metric_type = 'multiPerformanceRate'
    ) as mapped
    full outer join cms_strata
        on mapped.measure_id = cms_strata.measure_id
        and mapped.performance_year = cms_strata.performance_year
        and mapped.qpp_stratum = cms_strata.qpp_stratum
    where mapped.measure_id is null or cms_strata.measure_id is null

),

single_rate_mismatches as (

    select
        computed_years.measure_id,
        computed_years.performance_year,
        max(mapped.qpp_stratum) as mapped_name,
        {{ dbt.cast("count(mapped.stratum)", api.Column.translate_type("string")) }} as cms_name
    from computed_years
    left join mapped
        on computed_years.measure_id = mapped.measure_id
        and computed_years.performance_year = mapped.performance_year
    where computed_years.metric_type = 'singlePerformanceRate'
    group by computed_years.measure_id, computed_years.performance_year
    having count(mapped.stratum) <> 1 or max(mapped.qpp_stratum) is not null

)

select * from multi_rate_mismatches
union all
select * from single_rate_mismatches
