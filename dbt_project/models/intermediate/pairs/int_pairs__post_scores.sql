{#- The post-op score of each case: among the scores of the case's instrument inside the follow-up window
    (both ends inclusive), the one closest to the nominal follow-up point; equally close -> the later one;
    several on that day -> the highest (least favourable). -#}
with cases as (

    select * from {{ ref('int_pairs__surgical_cases') }}

),

scores as (

    select * from {{ ref('int_pairs__scores') }}

),

candidates as (

    select
        cases.case_id,
        scores.observation_date as post_score_date,
        scores.score as post_score,
        row_number() over (
            partition by cases.case_id
            order by abs({{ dbt.datediff('cases.nominal_date', 'scores.observation_date', 'day') }}),
                     scores.observation_date desc,
                     scores.score desc
        ) as score_rank
    from cases
    inner join scores
        on cases.person_id = scores.person_id
        and cases.instrument = scores.instrument
        and scores.observation_date >= cases.window_start
        and scores.observation_date <= cases.window_end

)

select
    case_id,
    post_score,
    post_score_date
from candidates
where score_rank = 1
