{#- Per billing code, period and the rendering provider's NUCC taxonomy: lines, claims, persons, rendering NPIs
    and the taxonomy's share of the code's lines in the period. Grain - one row per code, period_type, period
    and taxonomy_code. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_periods() }}") }}

with counts as (

    {{ counts_by_period(['code', 'taxonomy_code'], line_counts() ~ ', count(distinct rendering_npi) as rendering_npis') }}

)

select
    counts.code,
    counts.period_type,
    counts.period,
    counts.year,
    counts.quarter,
    counts.taxonomy_code,
    counts.claim_lines,
    counts.claims,
    counts.persons,
    counts.rendering_npis,
    taxonomies.taxonomy_description,
    {{ share_pct('counts.claim_lines',
                 'sum(counts.claim_lines) over (partition by counts.code, counts.period_type, counts.period)') }}
        as share_of_claim_lines_pct
from counts
left join {{ ref('nucc_taxonomy') }} as taxonomies
    on counts.taxonomy_code = taxonomies.taxonomy_code
