{#- The follow-up state on the as-of date of every case whose missing score can still be collected, or whose window
    closed without it not long ago (docs/worklist.md). Windows, scores and outcomes are read from the measure
    models, never recomputed here; the worklist parameters only name the statuses, set the closing-soon threshold
    and how long a missed case stays listed. Rows with a status are the worklist; rows without one are cases in an
    open window that already have their score (the denominator of the published share still missing a score).
    Excluded cases never appear. Grain - one row per case_id. -#}
{%- set as_of = "cast('" ~ run_var('as_of_date') ~ "' as date)" -%}
{%- set text = api.Column.translate_type("string") -%}
with pair_cases as (

    select * from {{ ref('int_pairs__cases') }}

),

surgical_cases as (

    select * from {{ ref('int_pairs__surgical_cases') }}

),

rehab_cases as (

    select * from {{ ref('int_rehab__cases') }}

),

episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

episode_scores as (

    select * from {{ ref('int_rehab__episode_scores') }}

),

parameters as (

    select * from {{ ref('follow_up_worklist_parameters') }}

),

{#- 459/461/471: the post-op score is due in the follow-up window. The case model's pending (no post-op score and
    the window not closed) is open, its not_measured (the window closed without one) is missed. A scored case
    stays in its open window until the window ends (a closer score may still replace it). The pre-op window ended
    with the procedure: a missing pre-op score is reported, not chased. -#}
pair_follow_up as (

    select
        pair_cases.case_id,
        pair_cases.person_id,
        pair_cases.measure_id,
        pair_cases.stratum,
        pair_cases.performance_year,
        pair_cases.tin,
        pair_cases.rendering_npi,
        pair_cases.index_date,
        surgical_cases.instrument,
        pair_cases.status as case_status,
        pair_cases.pre_score is null as missing_pre_score,
        pair_cases.post_score is null as missing_post_score,
        case
            when pair_cases.post_score is not null then null
            when pair_cases.pre_score is null then 'pre_op_score, post_op_score'
            else 'post_op_score'
        end as missing,
        pair_cases.window_start as window_opens,
        surgical_cases.nominal_date as target_date,
        pair_cases.window_end as window_closes,
        pair_cases.post_score is null as is_missing,
        pair_cases.status = 'not_measured' as is_missed,
        pair_cases.status = 'pending'
            or (pair_cases.status in ('met', 'not_met') and {{ as_of }} < pair_cases.window_end) as is_open
    from pair_cases
    inner join surgical_cases
        on pair_cases.case_id = surgical_cases.case_id
    -- an excluded case needs no score; a not_eligible one (a measure-year CMS does not define) is not reported
    where pair_cases.status not in ('excluded', 'not_eligible')

),

{#- 220: the intake FS is due in its window around the start while it is missing, then the discharge FS, dated
    after the intake: by the end of the discharge FS window once M1012 closed the episode, else by the last day a
    visit keeps the open episode going (open_until). The case model's scope, exclusions and pending apply. -#}
rehab_joined as (

    select
        rehab_cases.*,
        episodes.end_reason,
        episodes.open_until,
        episode_scores.intake_window_start,
        episode_scores.intake_window_end,
        episode_scores.discharge_window_end,
        episodes.end_reason = 'open'
            or (episodes.end_reason = 'discharge' and {{ as_of }} < episode_scores.discharge_window_end)
            as is_follow_up_open
    from rehab_cases
    inner join episodes
        on rehab_cases.measure_id = episodes.measure_id
        and rehab_cases.person_id = episodes.person_id
        and rehab_cases.index_date = episodes.start_date
    inner join episode_scores
        on episodes.episode_id = episode_scores.episode_id
    where rehab_cases.status not in ('excluded', 'not_eligible')

),

rehab_follow_up as (

    select
        case_id,
        person_id,
        measure_id,
        stratum,
        performance_year,
        tin,
        rendering_npi,
        index_date,
        cast(null as {{ text }}) as instrument,
        status as case_status,
        pre_score is null as missing_pre_score,
        post_score is null as missing_post_score,
        case
            when pre_score is null and post_score is null then 'intake_fs, discharge_fs'
            when pre_score is null then 'intake_fs'
            when post_score is null then 'discharge_fs'
        end as missing,
        case
            when pre_score is null then intake_window_start
            else cast({{ dbt.dateadd('day', 1, 'pre_score_date') }} as date)
        end as window_opens,
        case
            when pre_score is null then index_date
            when end_reason <> 'open' then episode_end_date
        end as target_date,
        case
            when pre_score is null then intake_window_end
            when end_reason = 'discharge' then discharge_window_end
            else open_until
        end as window_closes,
        pre_score is null or post_score is null as is_missing,
        -- "the as-of date equals the window end: closed" (measure 459's finer point) for the intake window too
        (pre_score is null and {{ as_of }} >= intake_window_end)
            or ((pre_score is null or post_score is null) and not is_follow_up_open) as is_missed,
        is_follow_up_open
            and not (pre_score is null and {{ as_of }} >= intake_window_end) as is_open
    from rehab_joined

),

follow_up as (

    select * from pair_follow_up
    union all
    select * from rehab_follow_up

),

with_days as (

    select
        follow_up.*,
        {{ dbt.datediff(as_of, 'follow_up.window_closes', 'day') }} as days_left
    from follow_up

),

with_status as (

    select
        with_days.*,
        case
            when not with_days.is_missing then null
            when with_days.is_missed then parameters.status_missed
            when {{ as_of }} < with_days.window_opens then parameters.status_not_yet_due
            when with_days.days_left <= parameters.closing_soon_days then parameters.status_closing_soon
            else parameters.status_due_now
        end as status,
        -- a missed case stays listed while its case is still pending (220: the intake was missed, the episode
        -- goes on) and missed_retention_days after its window closed
        with_days.is_open
            or (with_days.is_missed
                and (with_days.case_status = 'pending'
                     or with_days.days_left >= -1 * parameters.missed_retention_days)) as is_kept
    from with_days
    cross join parameters

)

select
    case_id,
    measure_id,
    stratum,
    performance_year,
    tin,
    rendering_npi,
    person_id,
    index_date,
    instrument,
    missing,
    missing_pre_score,
    missing_post_score,
    window_opens,
    target_date,
    window_closes,
    days_left,
    status,
    case_status,
    is_open,
    {{ as_of }} as as_of_date
from with_status
where is_kept
