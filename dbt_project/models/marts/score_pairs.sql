{#- The pre/post score pair behind each case of measures 459, 461 and 471, with the instrument's range and
    both windows, so that a reader can check each pairing. Grain - one row per case_id. -#}
with cases as (

    select * from {{ ref('int_pairs__surgical_cases') }}

),

outcomes as (

    select * from {{ ref('int_pairs__cases') }}

),

instrument_ranges as (

    select
        instrument,
        min(min_score) as score_min,
        max(max_score) as score_max
    from {{ ref('instruments') }}
    group by instrument

)

select
    cases.case_id,
    cases.measure_id,
    cases.stratum,
    cases.instrument,
    instrument_ranges.score_min,
    instrument_ranges.score_max,
    cases.index_date,
    cases.pre_window_start,
    cases.pre_window_end,
    cases.window_start,
    cases.window_end,
    outcomes.pre_score,
    outcomes.pre_score_date,
    outcomes.post_score,
    outcomes.post_score_date,
    outcomes.improvement
from cases
inner join outcomes
    on cases.case_id = outcomes.case_id
left join instrument_ranges
    on cases.instrument = instrument_ranges.instrument
