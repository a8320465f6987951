{#- The follow-up worklist for the clinics: every open case still missing a score on the as-of date, and the cases
    whose window closed without one not long ago (status missed). Holds person identifiers: operator exports
    only (`spine-pipeline worklist`), never published. Rules: docs/worklist.md. Grain - one row per case_id. -#}
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
    as_of_date
from {{ ref('int_follow_up__cases') }}
where status is not null
