{#- Every case of every measure with its outcome and code: the pre/post score-pair measures (459, 461, 471)
    and the rehab measures (220). Grain - one row per case_id. -#}
with pair_cases as (

    select * from {{ ref('int_pairs__cases') }}

),

rehab_cases as (

    select * from {{ ref('int_rehab__cases') }}

),

unioned as (

    select * from pair_cases
    union all
    select * from rehab_cases

)

select
    case_id,
    person_id,
    measure_id,
    stratum,
    index_date,
    episode_end_date,
    window_start,
    window_end,
    pre_score,
    pre_score_date,
    post_score,
    post_score_date,
    improvement,
    actual_change,
    predicted_change,
    predictor,
    predictor_version,
    residual,
    status,
    qdc_code,
    reason,
    performance_year,
    tin,
    rendering_npi
from unioned
