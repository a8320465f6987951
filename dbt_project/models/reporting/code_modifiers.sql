{#- Per billing code, period and modifier: the lines carrying the modifier (a modifier twice on a line counts
    once), their claims and persons, their share of the code's lines, and whether the modifier is invalid on
    the code's type (seed modifier_rules). A line carries several modifiers, so shares do not add up to 100.
    Grain - one row per code, period_type, period and modifier. -#}
-- depends_on: {{ ref('int_reporting__unit_digests') }}
{{ config(materialized=reporting_materialization(), on_schema_change='fail', pre_hook="{{ delete_touched_units() }}") }}

with lines as (

    select * from {{ ref('int_reporting__code_lines') }} as lines
    {{- touched_units_only('lines') }}

),

line_modifiers as (

    select distinct claim_id, claim_line_number, claim_key, modifier from {{ ref('stg_claim_modifier') }}

),

counts as (

    select
        lines.code,
        {{ period_columns() }},
        line_modifiers.modifier,
        count(*) as claim_lines,
        count(distinct lines.claim_key) as claims,
        count(distinct lines.person_id) as persons
    from lines
    inner join line_modifiers
        on lines.claim_id = line_modifiers.claim_id
        and lines.claim_line_number = line_modifiers.claim_line_number
        and lines.claim_key = line_modifiers.claim_key
    {{ period_grouping(['lines.code', 'line_modifiers.modifier']) }}

),

rules as (

    select
        modifier,
        max(reason) as reason
    from {{ ref('modifier_rules') }}
    group by modifier

),

allowed as (

    select modifier, allowed_code_type from {{ ref('modifier_rules') }}

),

code_totals as (

    select code, period_type, period, claim_lines as code_claim_lines from {{ ref('code_overview') }}

),

flagged as (

    select
        counts.*,
        code_totals.code_claim_lines,
        rules.modifier is not null and allowed.modifier is null as is_invalid,
        rules.reason
    from counts
    inner join code_totals
        on counts.code = code_totals.code
        and counts.period_type = code_totals.period_type
        and counts.period = code_totals.period
    inner join {{ ref('int_reporting__code_descriptors') }} as descriptors
        on counts.code = descriptors.code
    left join rules
        on counts.modifier = rules.modifier
    left join allowed
        on counts.modifier = allowed.modifier
        and descriptors.code_type = allowed.allowed_code_type

)

select
    code,
    period_type,
    period,
    year,
    quarter,
    modifier,
    claim_lines,
    claims,
    persons,
    {{ share_pct('claim_lines', 'code_claim_lines') }} as share_of_claim_lines_pct,
    is_invalid,
    case when is_invalid then reason end as invalid_reason
from flagged
