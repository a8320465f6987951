{#- Per billing code, period and payer: lines, claims, persons, amounts and the payer's share of the code's
    lines in the period. Grain - one row per code, period_type, period, payer and payer_type. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_units() }}") }}

with counts as (

    select
        code,
        {{ period_columns() }},
        payer,
        payer_type,
        {{ line_counts() }},
        cast(sum(allowed_amount) as decimal(38, 2)) as allowed_amount,
        cast(sum(paid_amount) as decimal(38, 2)) as paid_amount
    from {{ ref('int_reporting__code_lines') }} as lines
    {{- touched_units_only('lines') }}
    {{ period_grouping(['code', 'payer', 'payer_type']) }}

)

select
    *,
    {{ share_pct('claim_lines', 'sum(claim_lines) over (partition by code, period_type, period)') }}
        as share_of_claim_lines_pct
from counts
