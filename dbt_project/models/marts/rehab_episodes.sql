{#- Episodes of care of the rehab measures (220) with their intake and discharge FS scores; no person
    identifier. -#}
with episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

scores as (

    select * from {{ ref('int_rehab__episode_scores') }}

)

select
    episodes.episode_id,
    episodes.measure_id,
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
