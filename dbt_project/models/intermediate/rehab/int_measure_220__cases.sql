-- Placeholder with the measure_cases contract; the measure 220 logic replaces it.
with coefficients as (
    select * from {{ source('risk_model', 'coefficients') }}
)

select
    cast(null as varchar) as case_id,
    cast(null as varchar) as person_id,
    cast(null as varchar) as measure_id,
    cast(null as varchar) as stratum,
    cast(null as date) as index_date,
    cast(null as date) as episode_end_date,
    cast(null as date) as window_start,
    cast(null as date) as window_end,
    cast(null as decimal(9, 3)) as pre_score,
    cast(null as date) as pre_score_date,
    cast(null as decimal(9, 3)) as post_score,
    cast(null as date) as post_score_date,
    cast(null as decimal(9, 3)) as improvement,
    cast(null as decimal(9, 3)) as actual_change,
    cast(null as decimal(9, 3)) as predicted_change,
    cast(null as varchar) as predictor,
    cast(null as varchar) as predictor_version,
    cast(null as decimal(9, 3)) as residual,
    cast(null as varchar) as status,
    cast(null as varchar) as qdc_code,
    cast(null as varchar) as reason,
    cast(null as integer) as performance_year,
    cast(null as varchar) as tin,
    cast(null as varchar) as rendering_npi
from coefficients
where 1 = 0
