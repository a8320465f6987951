{#- Per billing code, period and place of service: lines, claims, persons and the place's share of the code's
    lines in the period. Grain - one row per code, period_type, period and place_of_service_code. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_periods() }}") }}

with counts as (

    {{ counts_by_period(['code', 'place_of_service_code'], line_counts()) }}

)

select
    counts.code,
    counts.period_type,
    counts.period,
    counts.year,
    counts.quarter,
    counts.place_of_service_code,
    counts.claim_lines,
    counts.claims,
    counts.persons,
    places.place_of_service_description,
    {{ share_pct('counts.claim_lines',
                 'sum(counts.claim_lines) over (partition by counts.code, counts.period_type, counts.period)') }}
        as share_of_claim_lines_pct
from counts
left join {{ ref('place_of_service') }} as places
    on counts.place_of_service_code = places.place_of_service_code
