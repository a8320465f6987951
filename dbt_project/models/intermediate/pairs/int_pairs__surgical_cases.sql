{#- One row per measure, stratum, person and procedure day: the cases of the pre/post score-pair measures
    (459, 461, 471), each carrying its windows, thresholds and codes from measure_parameters, so that the
    downstream models need no measure-specific SQL.

    Same day: when procedure codes of several strata fall on one day, the stratum with the lowest
    stratum_priority wins (fusion over decompression); consecutive days stay separate cases.
    TIN / NPI: those of one line of the winning stratum's codes that day, chosen deterministically - lines
    with a rendering TIN first, then the lowest claim_id and claim_line_number.
    Age: min_age_years in completed years on the procedure date; a person without a birth date in the
    enrollment data cannot be shown to qualify and makes no case. -#}
with claim_lines as (

    select * from {{ ref('stg_medical_claim') }}

),

persons as (

    select * from {{ ref('stg_person') }}

),

parameters as (

    select * from {{ ref('measure_parameters') }}

),

value_sets as (

    select * from {{ ref('procedure_value_sets') }}

),

procedure_lines as (

    select
        parameters.measure_id,
        parameters.stratum,
        parameters.stratum_priority,
        claim_lines.person_id,
        claim_lines.service_date as procedure_date,
        claim_lines.rendering_tin,
        claim_lines.rendering_npi,
        claim_lines.claim_id,
        claim_lines.claim_line_number
    from claim_lines
    inner join value_sets
        on claim_lines.hcpcs_code = value_sets.code
    inner join parameters
        on value_sets.value_set = parameters.procedure_value_set

),

ranked_lines as (

    select
        *,
        row_number() over (
            partition by measure_id, person_id, procedure_date
            order by stratum_priority,
                     case when rendering_tin is null then 1 else 0 end,
                     claim_id,
                     claim_line_number
        ) as line_rank
    from procedure_lines

),

cases as (

    select
        ranked_lines.measure_id,
        ranked_lines.stratum,
        ranked_lines.person_id,
        ranked_lines.procedure_date,
        ranked_lines.rendering_tin as tin,
        ranked_lines.rendering_npi,
        persons.birth_date
    from ranked_lines
    inner join persons
        on ranked_lines.person_id = persons.person_id
    where ranked_lines.line_rank = 1

)

select
    {{ dbt.hash(dbt.concat(["cases.person_id", "'|'", "cases.measure_id", "'|'", "cases.stratum", "'|'",
                            dbt.cast("cases.procedure_date", api.Column.translate_type("string"))])) }} as case_id,
    cases.person_id,
    cases.measure_id,
    cases.stratum,
    cases.procedure_date as index_date,
    cases.tin,
    cases.rendering_npi,
    parameters.instrument,
    {{ add_months('cases.procedure_date', '-parameters.pre_window_months') }} as pre_window_start,
    cases.procedure_date as pre_window_end,
    {{ pairs_offset_date('cases.procedure_date', 'parameters.followup_start_offset', 'parameters.followup_start_unit') }}
        as window_start,
    {{ pairs_offset_date('cases.procedure_date', 'parameters.followup_end_offset', 'parameters.followup_end_unit') }}
        as window_end,
    {{ pairs_offset_date('cases.procedure_date', 'parameters.nominal_offset', 'parameters.nominal_unit') }}
        as nominal_date,
    {{ add_months('cases.procedure_date', '-parameters.exclusion_lookback_months') }} as exclusion_lookback_start,
    parameters.exclusion_value_set,
    parameters.met_post_max,
    parameters.met_improvement_min,
    parameters.code_met,
    parameters.code_not_met,
    parameters.code_not_measured,
    parameters.code_excluded
from cases
inner join parameters
    on cases.measure_id = parameters.measure_id
    and cases.stratum = parameters.stratum
where {{ age_in_years('cases.birth_date', 'cases.procedure_date') }} >= parameters.min_age_years
