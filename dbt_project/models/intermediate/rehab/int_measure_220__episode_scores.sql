{#- Intake FS, discharge FS and the vendor's predicted change of each episode. Several scores on one day count
    as the least favourable: the highest intake, the lowest discharge, the highest predicted change. -#}
with episodes as (

    select * from {{ ref('int_measure_220__episodes') }}

),

observations as (

    select * from {{ ref('stg_observation') }}

),

parameters as (

    select * from {{ ref('measure_220_parameters') }}

),

fs_scores as (

    select
        observations.person_id,
        observations.observation_date,
        observations.score
    from observations
    inner join parameters
        on observations.instrument = parameters.fs_instrument
    where observations.score is not null

),

predicted_scores as (

    select
        observations.person_id,
        observations.observation_date,
        max(observations.score) as predicted_change
    from observations
    inner join parameters
        on observations.instrument = parameters.predicted_change_instrument
    where observations.score is not null
    group by observations.person_id, observations.observation_date

),

intake_dates as (

    select
        episodes.episode_id,
        min(fs_scores.observation_date) as intake_date
    from episodes
    cross join parameters
    inner join fs_scores
        on episodes.person_id = fs_scores.person_id
        and fs_scores.observation_date
            >= {{ dbt.dateadd('day', '-1 * parameters.intake_days_before_start', 'episodes.start_date') }}
        and fs_scores.observation_date
            <= {{ dbt.dateadd('day', 'parameters.intake_days_after_start', 'episodes.start_date') }}
    group by episodes.episode_id

),

intakes as (

    select
        episodes.episode_id,
        intake_dates.intake_date,
        max(fs_scores.score) as intake_fs
    from episodes
    inner join intake_dates
        on episodes.episode_id = intake_dates.episode_id
    inner join fs_scores
        on episodes.person_id = fs_scores.person_id
        and fs_scores.observation_date = intake_dates.intake_date
    group by episodes.episode_id, intake_dates.intake_date

),

discharge_dates as (

    select
        episodes.episode_id,
        max(fs_scores.observation_date) as discharge_date
    from episodes
    cross join parameters
    inner join intake_dates
        on episodes.episode_id = intake_dates.episode_id
    inner join fs_scores
        on episodes.person_id = fs_scores.person_id
        and fs_scores.observation_date > intake_dates.intake_date
        and fs_scores.observation_date
            <= {{ dbt.dateadd('day', 'parameters.discharge_days_after_end', 'episodes.end_date') }}
    group by episodes.episode_id

),

discharges as (

    select
        episodes.episode_id,
        discharge_dates.discharge_date,
        min(fs_scores.score) as discharge_fs
    from episodes
    inner join discharge_dates
        on episodes.episode_id = discharge_dates.episode_id
    inner join fs_scores
        on episodes.person_id = fs_scores.person_id
        and fs_scores.observation_date = discharge_dates.discharge_date
    group by episodes.episode_id, discharge_dates.discharge_date

)

select
    episodes.episode_id,
    intakes.intake_fs,
    intakes.intake_date,
    discharges.discharge_fs,
    discharges.discharge_date,
    discharges.discharge_fs - intakes.intake_fs as actual_change,
    predicted_scores.predicted_change as vendor_predicted_change,
    -- the windows the scores above were looked for in (read by the follow-up worklist); the discharge FS must
    -- also be dated after the intake
    cast({{ dbt.dateadd('day', '-1 * parameters.intake_days_before_start', 'episodes.start_date') }} as date)
        as intake_window_start,
    cast({{ dbt.dateadd('day', 'parameters.intake_days_after_start', 'episodes.start_date') }} as date)
        as intake_window_end,
    cast({{ dbt.dateadd('day', 'parameters.discharge_days_after_end', 'episodes.end_date') }} as date)
        as discharge_window_end
from episodes
cross join parameters
left join intakes
    on episodes.episode_id = intakes.episode_id
left join discharges
    on episodes.episode_id = discharges.episode_id
left join predicted_scores
    on episodes.person_id = predicted_scores.person_id
    and intakes.intake_date = predicted_scores.observation_date
