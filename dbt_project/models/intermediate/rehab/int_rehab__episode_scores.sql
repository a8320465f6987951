{#- Intake FS, discharge FS and the vendor's predicted change of each episode, with the instruments and windows of
    the episode's performance year (the year of its end). Several scores on one day count as the least
    favourable: the highest intake, the lowest discharge, the highest predicted change. The windows themselves
    are columns too (the follow-up worklist reads them). -#}
with episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

observations as (

    select * from {{ ref('stg_observation') }}

),

parameters as (

    select * from {{ ref('int_rehab__parameters') }}

),

episode_windows as (

    select
        episodes.episode_id,
        episodes.person_id,
        episodes.end_date,
        parameters.fs_instrument,
        parameters.predicted_change_instrument,
        cast({{ dbt.dateadd('day', '-1 * parameters.intake_days_before_start', 'episodes.start_date') }} as date)
            as intake_window_start,
        cast({{ dbt.dateadd('day', 'parameters.intake_days_after_start', 'episodes.start_date') }} as date)
            as intake_window_end,
        cast({{ dbt.dateadd('day', 'parameters.discharge_days_after_end', 'episodes.end_date') }} as date)
            as discharge_window_end
    from episodes
    inner join parameters
        on episodes.measure_id = parameters.measure_id
        and cast(extract(year from episodes.end_date) as integer) = parameters.performance_year

),

instruments as (

    select fs_instrument as instrument from parameters
    union
    select predicted_change_instrument from parameters

),

scores as (

    select
        observations.person_id,
        observations.instrument,
        observations.observation_date,
        observations.score
    from observations
    inner join instruments
        on observations.instrument = instruments.instrument
    where observations.score is not null

),

intake_dates as (

    select
        episode_windows.episode_id,
        min(scores.observation_date) as intake_date
    from episode_windows
    inner join scores
        on episode_windows.person_id = scores.person_id
        and episode_windows.fs_instrument = scores.instrument
        and scores.observation_date >= episode_windows.intake_window_start
        and scores.observation_date <= episode_windows.intake_window_end
    group by episode_windows.episode_id

),

intakes as (

    select
        episode_windows.episode_id,
        intake_dates.intake_date,
        max(scores.score) as intake_fs
    from episode_windows
    inner join intake_dates
        on episode_windows.episode_id = intake_dates.episode_id
    inner join scores
        on episode_windows.person_id = scores.person_id
        and episode_windows.fs_instrument = scores.instrument
        and scores.observation_date = intake_dates.intake_date
    group by episode_windows.episode_id, intake_dates.intake_date

),

discharge_dates as (

    select
        episode_windows.episode_id,
        max(scores.observation_date) as discharge_date
    from episode_windows
    inner join intake_dates
        on episode_windows.episode_id = intake_dates.episode_id
    inner join scores
        on episode_windows.person_id = scores.person_id
        and episode_windows.fs_instrument = scores.instrument
        and scores.observation_date > intake_dates.intake_date
        and scores.observation_date <= episode_windows.discharge_window_end
    group by episode_windows.episode_id

),

discharges as (

    select
        episode_windows.episode_id,
        discharge_dates.discharge_date,
        min(scores.score) as discharge_fs
    from episode_windows
    inner join discharge_dates
        on episode_windows.episode_id = discharge_dates.episode_id
    inner join scores
        on episode_windows.person_id = scores.person_id
        and episode_windows.fs_instrument = scores.instrument
        and scores.observation_date = discharge_dates.discharge_date
    group by episode_windows.episode_id, discharge_dates.discharge_date

),

predictions as (

    select
        episode_windows.episode_id,
        max(scores.score) as vendor_predicted_change
    from episode_windows
    inner join intake_dates
        on episode_windows.episode_id = intake_dates.episode_id
    inner join scores
        on episode_windows.person_id = scores.person_id
        and episode_windows.predicted_change_instrument = scores.instrument
        and scores.observation_date = intake_dates.intake_date
    group by episode_windows.episode_id

)

select
    episode_windows.episode_id,
    intakes.intake_fs,
    intakes.intake_date,
    discharges.discharge_fs,
    discharges.discharge_date,
    discharges.discharge_fs - intakes.intake_fs as actual_change,
    predictions.vendor_predicted_change,
    episode_windows.intake_window_start,
    episode_windows.intake_window_end,
    episode_windows.discharge_window_end
from episode_windows
left join intakes
    on episode_windows.episode_id = intakes.episode_id
left join discharges
    on episode_windows.episode_id = discharges.episode_id
left join predictions
    on episode_windows.episode_id = predictions.episode_id
