{#- Episodes of care of each rehab measure, per person. Visits closer than the gap parameter form an island;
    inside an island the episodes alternate: a qualifying initial evaluation starts one, the first discharge-code
    line strictly after it (else the island's last visit) ends it, and the next qualifying line strictly after
    that end starts the next. An initial evaluation inside an open episode is ignored. The chain is followed with
    a recursive CTE whose depth is the number of episodes in one island.
    Years: the gap between two visits is judged with the parameters of the earlier visit's year (the year the
    episode would end in if the gap closed it); whether an episode is still open, with those of its last
    visit's year. end_reason: discharge (closed by the discharge code), gap (no visit within the gap), open. -#}
{%- set as_of = "cast('" ~ run_var('as_of_date') ~ "' as date)" -%}
with recursive visit_lines as (

    select * from {{ ref('int_rehab__visit_lines') }}

),

parameters as (

    select * from {{ ref('int_rehab__parameters') }}

),

visit_days as (

    select
        measure_id,
        person_id,
        service_date,
        max(case when is_episode_start then 1 else 0 end) as has_start,
        max(case when is_discharge then 1 else 0 end) as has_discharge
    from visit_lines
    group by measure_id, person_id, service_date

),

with_previous as (

    select
        *,
        lag(service_date) over (partition by measure_id, person_id order by service_date) as previous_visit_date
    from visit_days

),

islands as (

    select
        with_previous.measure_id,
        with_previous.person_id,
        with_previous.service_date,
        with_previous.has_start,
        with_previous.has_discharge,
        sum(
            case
                when with_previous.previous_visit_date is null then 1
                when {{ dbt.datediff('with_previous.previous_visit_date', 'with_previous.service_date', 'day') }}
                    > parameters.episode_gap_days then 1
                else 0
            end
        ) over (
            partition by with_previous.measure_id, with_previous.person_id
            order by with_previous.service_date
            rows between unbounded preceding and current row
        ) as island_number
    from with_previous
    left join parameters
        on with_previous.measure_id = parameters.measure_id
        and cast(extract(year from with_previous.previous_visit_date) as integer) = parameters.performance_year

),

island_last_visits as (

    select
        measure_id,
        person_id,
        island_number,
        max(service_date) as last_visit_date
    from islands
    group by measure_id, person_id, island_number

),

-- what each qualifying line's episode would be if it started one
candidates as (

    select
        starts.measure_id,
        starts.person_id,
        starts.island_number,
        starts.service_date as start_date,
        min(discharges.service_date) as discharge_date,
        max(island_last_visits.last_visit_date) as island_last_visit_date
    from islands as starts
    inner join island_last_visits
        on starts.measure_id = island_last_visits.measure_id
        and starts.person_id = island_last_visits.person_id
        and starts.island_number = island_last_visits.island_number
    left join islands as discharges
        on starts.measure_id = discharges.measure_id
        and starts.person_id = discharges.person_id
        and starts.island_number = discharges.island_number
        and discharges.has_discharge = 1
        and discharges.service_date > starts.service_date
    where starts.has_start = 1
    group by starts.measure_id, starts.person_id, starts.island_number, starts.service_date

),

candidate_ends as (

    select
        *,
        coalesce(discharge_date, island_last_visit_date) as end_date,
        row_number() over (partition by measure_id, person_id, island_number order by start_date) as island_rank
    from candidates

),

next_candidates as (

    select
        current_candidate.measure_id,
        current_candidate.person_id,
        current_candidate.start_date,
        min(later.start_date) as next_start_date
    from candidate_ends as current_candidate
    inner join candidate_ends as later
        on current_candidate.measure_id = later.measure_id
        and current_candidate.person_id = later.person_id
        and current_candidate.island_number = later.island_number
        and later.start_date > current_candidate.end_date
    group by current_candidate.measure_id, current_candidate.person_id, current_candidate.start_date

),

chained as (

    select
        measure_id,
        person_id,
        island_number,
        start_date,
        end_date,
        discharge_date
    from candidate_ends
    where island_rank = 1

    union all

    select
        following.measure_id,
        following.person_id,
        following.island_number,
        following.start_date,
        following.end_date,
        following.discharge_date
    from chained
    inner join next_candidates
        on chained.measure_id = next_candidates.measure_id
        and chained.person_id = next_candidates.person_id
        and chained.start_date = next_candidates.start_date
    inner join candidate_ends as following
        on next_candidates.measure_id = following.measure_id
        and next_candidates.person_id = following.person_id
        and next_candidates.next_start_date = following.start_date

),

start_lines as (

    -- several qualifying lines on the start day: as for measure 459, a line with a rendering TIN first (an
    -- episode without a TIN belongs to no reporting entity), then the lowest claim and line number, then the
    -- lowest claim_key (two sources' lines with the same claim_id and line number: data_source decides)
    select
        measure_id,
        person_id,
        service_date,
        rendering_tin,
        rendering_npi,
        row_number() over (
            partition by measure_id, person_id, service_date
            order by case when rendering_tin is null then 1 else 0 end,
                     claim_id,
                     claim_line_number,
                     claim_key
        ) as line_rank
    from visit_lines
    where is_episode_start

),

ended as (

    select
        chained.*,
        start_lines.rendering_tin as tin,
        start_lines.rendering_npi,
        parameters.pending_days
    from chained
    inner join start_lines
        on chained.measure_id = start_lines.measure_id
        and chained.person_id = start_lines.person_id
        and chained.start_date = start_lines.service_date
        and start_lines.line_rank = 1
    inner join parameters
        on chained.measure_id = parameters.measure_id
        and cast(extract(year from chained.end_date) as integer) = parameters.performance_year

)

select
    {{ dbt.hash(dbt.concat(['measure_id', "'|'", 'person_id', "'|'",
                            dbt.cast('start_date', api.Column.translate_type('string'))])) }} as episode_id,
    measure_id,
    person_id,
    tin,
    rendering_npi,
    start_date,
    end_date,
    case
        when discharge_date is not null then 'discharge'
        when {{ dbt.datediff('end_date', as_of, 'day') }} <= pending_days then 'open'
        else 'gap'
    end as end_reason,
    -- without a discharge: the last as-of date on which the episode is still open (a visit by then extends it)
    case
        when discharge_date is null then cast({{ dbt.dateadd('day', 'pending_days', 'end_date') }} as date)
    end as open_until
from ended
