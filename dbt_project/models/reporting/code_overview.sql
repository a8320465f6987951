{#- Per billing code and period: lines, claims, persons, rendering NPIs, units, amounts and the first and last
    service date. Grain - one row per code, period_type and period. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_periods() }}") }}

{%- set measures %}
    {{ line_counts() }},
    count(distinct rendering_npi) as rendering_npis,
    cast(sum(units) as decimal(38, 3)) as units,
    cast(sum(allowed_amount) as decimal(38, 2)) as allowed_amount,
    cast(sum(paid_amount) as decimal(38, 2)) as paid_amount,
    min(service_date) as first_service_date,
    max(service_date) as last_service_date
{%- endset %}

{{ counts_by_period(['code'], measures) }}
