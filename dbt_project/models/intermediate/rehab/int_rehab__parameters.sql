{#- The rehab_parameters row that applies in each performance year, per rehab measure: the row whose range
    contains the year (ranges never overlap: seed test). A year no row covers takes the nearest row in years
    (equally near: the later row) so that every visit can be placed in episodes; its cases are not_eligible
    (is_specified false), and value sets are read as of value_set_year, the nearest year that row covers. Grain - one row per measure_id and
    performance_year (1900-2199). -#}
with years as (

    select * from {{ ref('performance_years') }}

),

parameters as (

    select * from {{ ref('rehab_parameters') }}

),

candidates as (

    select
        years.performance_year,
        {{ year_in_range('years.performance_year', 'parameters.performance_year_from',
                         'parameters.performance_year_to') }} as is_specified,
        case
            when years.performance_year < parameters.performance_year_from
                then parameters.performance_year_from - years.performance_year
            when parameters.performance_year_to is not null and years.performance_year > parameters.performance_year_to
                then years.performance_year - parameters.performance_year_to
            else 0
        end as years_away,
        parameters.*
    from years
    cross join parameters

),

ranked as (

    select
        *,
        row_number() over (
            partition by measure_id, performance_year
            order by years_away, performance_year_from desc
        ) as row_rank
    from candidates

)

select
    *,
    case
        when is_specified then performance_year
        when performance_year < performance_year_from then performance_year_from
        else coalesce(performance_year_to, performance_year_from)
    end as value_set_year
from ranked
where row_rank = 1
