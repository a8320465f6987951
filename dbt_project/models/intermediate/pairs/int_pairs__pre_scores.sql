{#- The pre-op score of each case: the latest score of the case's instrument from pre_window_start through
    the procedure date, both inclusive; several on that day -> the lowest (least favourable). -#}
with cases as (

    select * from {{ ref('int_pairs__surgical_cases') }}

),

scores as (

    select * from {{ ref('int_pairs__scores') }}

),

candidates as (

    select
        cases.case_id,
        scores.observation_date as pre_score_date,
        scores.score as pre_score,
        row_number() over (
            partition by cases.case_id
            order by scores.observation_date desc, scores.score asc
        ) as score_rank
    from cases
    inner join scores
        on cases.person_id = scores.person_id
        and cases.instrument = scores.instrument
        and scores.observation_date >= cases.pre_window_start
        and scores.observation_date <= cases.pre_window_end

)

select
    case_id,
    pre_score,
    pre_score_date
from candidates
where score_rank = 1
