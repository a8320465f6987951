{#- Whether CMS defines each measure stratum in each performance year, and what QPP calls it, from the registry
    (measures, measure_strata) and CMS's own measure data (seeds/qpp). A case of a measure, stratum and year whose
    not_eligible_reason is set is `not_eligible` with that reason; the checks run in this order:
    the measure's first/last performance year (registry) -> CMS's data has the measure that year -> its metric
    type is one the pipeline computes (qpp_metric_types) -> the stratum is mapped for that year (measure_strata).
    Grain - one row per measure_id, stratum and performance_year (1900-2199). -#}
{%- set text = api.Column.translate_type("string") -%}
with years as (

    select * from {{ ref('performance_years') }}

),

measures as (

    select * from {{ ref('measures') }}

),

strata as (

    select * from {{ ref('measure_strata') }}

),

stratum_ids as (

    select distinct measure_id, stratum from strata

),

qpp_years as (

    select * from {{ ref('qpp_measure_years') }}

),

metric_types as (

    select * from {{ ref('qpp_metric_types') }}

),

joined as (

    select
        stratum_ids.measure_id,
        measures.family,
        stratum_ids.stratum,
        years.performance_year,
        measures.first_performance_year,
        measures.last_performance_year,
        qpp_years.measure_id is not null as is_in_cms_data,
        qpp_years.metric_type,
        qpp_years.overall_algorithm,
        coalesce(metric_types.is_computed, false) as is_computed_metric,
        strata.measure_id is not null as is_mapped_stratum,
        strata.qpp_stratum
    from stratum_ids
    inner join measures
        on stratum_ids.measure_id = measures.measure_id
    cross join years
    left join qpp_years
        on stratum_ids.measure_id = qpp_years.measure_id
        and years.performance_year = qpp_years.performance_year
    left join metric_types
        on qpp_years.metric_type = metric_types.metric_type
    left join strata
        on stratum_ids.measure_id = strata.measure_id
        and stratum_ids.stratum = strata.stratum
        and {{ year_in_range('years.performance_year', 'strata.performance_year_from', 'strata.performance_year_to') }}

)

select
    measure_id,
    family,
    stratum,
    performance_year,
    metric_type,
    overall_algorithm,
    qpp_stratum,
    case
        when not {{ year_in_range('performance_year', 'first_performance_year', 'last_performance_year') }}
            then {{ dbt.concat([
                "'measure '", "measure_id", "' is not defined by CMS for PY'", dbt.cast("performance_year", text),
                "' (performance years '", dbt.cast("first_performance_year", text), "'-'",
                "coalesce(" ~ dbt.cast("last_performance_year", text) ~ ", '')", "')'"]) }}
        when not is_in_cms_data
            then {{ dbt.concat(["'CMS measure data (seeds/qpp) has no measure '", "measure_id", "' for PY'",
                                dbt.cast("performance_year", text)]) }}
        when not is_computed_metric
            then {{ dbt.concat(["'PY'", dbt.cast("performance_year", text), "' measure '", "measure_id",
                                "' is a '", "metric_type", "' measure in CMS data, which this pipeline does not compute'"]) }}
        when not is_mapped_stratum
            then {{ dbt.concat(["'stratum '", "stratum", "' of measure '", "measure_id",
                                "' is not defined by CMS for PY'", dbt.cast("performance_year", text)]) }}
    end as not_eligible_reason
from joined
