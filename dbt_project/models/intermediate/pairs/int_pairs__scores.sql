{#- Numeric scores of the instruments the pair measures use (any performance year) (non-numeric results have no score and cannot
    be a pre- or post-op score). Grain - one row per observation. -#}
with observations as (

    select * from {{ ref('stg_observation') }}

),

parameters as (

    select distinct instrument from {{ ref('pairs_parameters') }}

)

select
    observations.person_id,
    observations.instrument,
    observations.observation_date,
    observations.score
from observations
inner join parameters
    on observations.instrument = parameters.instrument
where observations.score is not null
