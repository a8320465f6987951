{#- Every quality-data code the measures assign, by measure, stratum, outcome and performance-year range: the
    codes of pairs_parameters and rehab_parameters (met / not_met / not_measured / excluded) and the exclusion
    codes of rehab_exclusions. The one list that tests, checks, publishing and QPP read.
    Grain - one row per measure_id, stratum, outcome, code and performance_year_from. -#}
with pairs as (

    select * from {{ ref('pairs_parameters') }}

),

rehab as (

    select * from {{ ref('rehab_parameters') }}

),

rehab_exclusions as (

    select * from {{ ref('rehab_exclusions') }}

),

{#- a rehab measure has one stratum id (measure_strata; a dbt test holds it to one) -#}
rehab_strata as (

    select distinct strata.measure_id, strata.stratum
    from {{ ref('measure_strata') }} as strata
    inner join {{ ref('measures') }} as measures
        on strata.measure_id = measures.measure_id
    where measures.family = 'rehab'

),

unpivoted as (

    {%- for outcome in ['met', 'not_met', 'not_measured', 'excluded'] %}
    select measure_id, stratum, '{{ outcome }}' as outcome, code_{{ outcome }} as code,
           performance_year_from, performance_year_to, source
    from pairs
    union all
    {%- endfor %}
    {%- for outcome in ['met', 'not_met', 'not_measured'] %}
    select rehab.measure_id, rehab_strata.stratum, '{{ outcome }}' as outcome, rehab.code_{{ outcome }} as code,
           rehab.performance_year_from, rehab.performance_year_to, rehab.source
    from rehab
    inner join rehab_strata
        on rehab.measure_id = rehab_strata.measure_id
    union all
    {%- endfor %}
    select rehab_exclusions.measure_id, rehab_strata.stratum, 'excluded' as outcome, rehab_exclusions.exclusion_code,
           rehab_exclusions.performance_year_from, rehab_exclusions.performance_year_to, rehab_exclusions.source
    from rehab_exclusions
    inner join rehab_strata
        on rehab_exclusions.measure_id = rehab_strata.measure_id

)

select
    cast(measure_id as {{ dbt.type_string() }}) as measure_id,
    stratum,
    outcome,
    code,
    performance_year_from,
    performance_year_to,
    source
from unpivoted
where code is not null
