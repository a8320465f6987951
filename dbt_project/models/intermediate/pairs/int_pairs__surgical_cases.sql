{#- One row per measure, person and procedure day: the cases of the pre/post score-pair measures (459, 461,
    471), each carrying the windows, thresholds and codes of the pairs_parameters row of its own performance
    year, so that the downstream models need no measure- or year-specific SQL.

    Performance year and parameter row: a case's performance year is the year of its follow-up window end, and
    the window depends on the row. For each candidate case (measure, stratum, person, procedure day) every row
    of its stratum computes a window end; the row chosen is, in this order: one whose range contains the year
    of its own window end; of several such rows, the one whose window ends first, then the earliest range (a
    case is reported in the first year any specification closes it, never in two); when no row's range contains
    its own year (a procedure before the measure's first specification, or between two ranges) the row whose
    window ends first, and the case is `not_eligible` downstream (is_specified false). One row per candidate
    case, whatever the number of years in the seed.
    Value sets by year: a procedure line counts when its code is in the stratum's procedure value set of the
    case's performance year (procedure_value_sets ranges); for a case no row specifies, any year's set.

    Same day: when procedure codes of several strata fall on one day, the stratum with the lowest
    stratum_priority wins (fusion over decompression); consecutive days stay separate cases.
    TIN / NPI: those of one line of the winning stratum's codes that day, chosen deterministically - lines
    with a rendering TIN first, then the lowest claim_id and claim_line_number, then claim_key (two sources' lines
    with the same claim_id and line number: their data_source decides).
    Age: min_age_years in completed years on the procedure date; a person without a birth date in the
    enrollment data cannot be shown to qualify and makes no case. -#}
with claim_lines as (

    select * from {{ ref('stg_medical_claim') }}

),

persons as (

    select * from {{ ref('stg_person') }}

),

parameters as (

    select * from {{ ref('pairs_parameters') }}

),

value_sets as (

    select * from {{ ref('procedure_value_sets') }}

),

procedure_lines as (

    select
        claim_lines.person_id,
        claim_lines.service_date as procedure_date,
        claim_lines.rendering_tin,
        claim_lines.rendering_npi,
        claim_lines.claim_id,
        claim_lines.claim_line_number,
        claim_lines.claim_key,
        value_sets.value_set,
        value_sets.performance_year_from as code_year_from,
        value_sets.performance_year_to as code_year_to
    from claim_lines
    inner join value_sets
        on claim_lines.hcpcs_code = value_sets.code

),

stratum_value_sets as (

    select distinct measure_id, stratum, procedure_value_set from parameters

),

candidate_days as (

    select distinct
        stratum_value_sets.measure_id,
        stratum_value_sets.stratum,
        procedure_lines.person_id,
        procedure_lines.procedure_date
    from procedure_lines
    inner join stratum_value_sets
        on procedure_lines.value_set = stratum_value_sets.procedure_value_set

),

candidate_rows as (

    select
        candidate_days.person_id,
        candidate_days.procedure_date,
        parameters.*,
        {{ pairs_offset_date('candidate_days.procedure_date', 'parameters.followup_end_offset', 'parameters.followup_end_unit') }}
            as row_window_end
    from candidate_days
    inner join parameters
        on candidate_days.measure_id = parameters.measure_id
        and candidate_days.stratum = parameters.stratum

),

ranked_rows as (

    select
        *,
        cast(extract(year from row_window_end) as integer) as performance_year,
        {{ year_in_range('cast(extract(year from row_window_end) as integer)',
                         'performance_year_from', 'performance_year_to') }} as is_specified
    from candidate_rows

),

chosen_rows as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by measure_id, stratum, person_id, procedure_date
                order by case when is_specified then 0 else 1 end, row_window_end, performance_year_from
            ) as row_rank
        from ranked_rows
    ) as ranked
    where row_rank = 1

),

{#- the procedure lines that put the person in each candidate case in its performance year -#}
case_lines as (

    select
        chosen_rows.measure_id,
        chosen_rows.stratum,
        chosen_rows.stratum_priority,
        procedure_lines.person_id,
        procedure_lines.procedure_date,
        procedure_lines.rendering_tin,
        procedure_lines.rendering_npi,
        procedure_lines.claim_id,
        procedure_lines.claim_line_number,
        procedure_lines.claim_key
    from chosen_rows
    inner join procedure_lines
        on chosen_rows.person_id = procedure_lines.person_id
        and chosen_rows.procedure_date = procedure_lines.procedure_date
        and chosen_rows.procedure_value_set = procedure_lines.value_set
        and (not chosen_rows.is_specified
             or {{ year_in_range('chosen_rows.performance_year', 'procedure_lines.code_year_from',
                                 'procedure_lines.code_year_to') }})

),

ranked_lines as (

    select
        *,
        row_number() over (
            partition by measure_id, person_id, procedure_date
            order by stratum_priority,
                     case when rendering_tin is null then 1 else 0 end,
                     claim_id,
                     claim_line_number,
                     claim_key
        ) as line_rank
    from case_lines

),

cases as (

    select
        chosen_rows.*,
        ranked_lines.rendering_tin as tin,
        ranked_lines.rendering_npi,
        persons.birth_date
    from ranked_lines
    inner join chosen_rows
        on ranked_lines.measure_id = chosen_rows.measure_id
        and ranked_lines.stratum = chosen_rows.stratum
        and ranked_lines.person_id = chosen_rows.person_id
        and ranked_lines.procedure_date = chosen_rows.procedure_date
    inner join persons
        on ranked_lines.person_id = persons.person_id
    where ranked_lines.line_rank = 1

)

select
    {{ dbt.hash(dbt.concat(["person_id", "'|'", "measure_id", "'|'", "stratum", "'|'",
                            dbt.cast("procedure_date", api.Column.translate_type("string"))])) }} as case_id,
    person_id,
    measure_id,
    stratum,
    procedure_date as index_date,
    tin,
    rendering_npi,
    performance_year,
    is_specified,
    performance_year_from as parameters_year_from,
    instrument,
    {{ add_months('procedure_date', '-pre_window_months') }} as pre_window_start,
    procedure_date as pre_window_end,
    {{ pairs_offset_date('procedure_date', 'followup_start_offset', 'followup_start_unit') }} as window_start,
    row_window_end as window_end,
    {{ pairs_offset_date('procedure_date', 'nominal_offset', 'nominal_unit') }} as nominal_date,
    {{ add_months('procedure_date', '-exclusion_lookback_months') }} as exclusion_lookback_start,
    exclusion_value_set,
    met_post_max,
    met_improvement_min,
    code_met,
    code_not_met,
    code_not_measured,
    code_excluded
from cases
where {{ age_in_years('birth_date', 'procedure_date') }} >= min_age_years
