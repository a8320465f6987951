{#- Measure 220 episodes of care with their intake and discharge FS scores; no person identifier. -#}
with episodes as (

    select * from {{ ref('int_measure_220__episodes') }}

),

scores as (

    select * from {{ ref('int_measure_220__episode_scores') }}

)

select
    episodes.episode_id,
    episodes.tin,
    episodes.rendering_npi,
    episodes.start_date,
    episodes.end_date,
    episodes.end_reason,
    scores.intake_fs,
    scores.intake_date,
    scores.discharge_fs,
    scores.discharge_date
from episodes
inner join scores
    on episodes.episode_id = scores.episode_id
