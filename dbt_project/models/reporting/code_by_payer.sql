{#- Per billing code, period and payer: lines, claims, persons, amounts and the payer's share of the code's
    lines in the period. Grain - one row per code, period_type, period, payer and payer_type. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_periods() }}") }}

{%- set measures %}
        {{ line_counts() }},
        cast(sum(allowed_amount) as decimal(38, 2)) as allowed_amount,
        cast(sum(paid_amount) as decimal(38, 2)) as paid_amount
{%- endset %}

with counts as (

    {{ counts_by_period(['code', 'payer', 'payer_type'], measures) }}

)

select
    *,
    {{ share_pct('claim_lines', 'sum(claim_lines) over (partition by code, period_type, period)') }}
        as share_of_claim_lines_pct
from counts
