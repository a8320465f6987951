{#- Cases meeting the denominator exclusion, one row per case with the evidence found first:
    - a diagnosis of the case's exclusion value set (its codes of the case's performance year) on any claim line
      dated from exclusion_lookback_start (inclusive) through the procedure date (later diagnoses do not
      exclude), or
    - the exclusion quality-data code (G9945) on a line dated from the procedure date through the end of
      the follow-up window. -#}
with cases as (

    select * from {{ ref('int_pairs__surgical_cases') }}

),

excluding_diagnoses as (

    select * from {{ ref('int_pairs__exclusion_diagnoses') }}

),

claim_lines as (

    select * from {{ ref('stg_medical_claim') }}

),

evidence as (

    select
        cases.case_id,
        excluding_diagnoses.service_date as evidence_date,
        {{ dbt.concat(["'exclusion diagnosis '", "excluding_diagnoses.diagnosis_code", "' on '",
                       dbt.cast("excluding_diagnoses.service_date", api.Column.translate_type("string"))]) }}
            as exclusion_reason
    from cases
    inner join excluding_diagnoses
        on cases.person_id = excluding_diagnoses.person_id
        and cases.exclusion_value_set = excluding_diagnoses.value_set
        and {{ year_in_range('cases.performance_year', 'excluding_diagnoses.performance_year_from',
                             'excluding_diagnoses.performance_year_to') }}
        and excluding_diagnoses.service_date >= cases.exclusion_lookback_start
        and excluding_diagnoses.service_date <= cases.index_date

    union all

    select
        cases.case_id,
        claim_lines.service_date as evidence_date,
        {{ dbt.concat(["claim_lines.hcpcs_code", "' reported on '",
                       dbt.cast("claim_lines.service_date", api.Column.translate_type("string"))]) }}
            as exclusion_reason
    from cases
    inner join claim_lines
        on cases.person_id = claim_lines.person_id
        and cases.code_excluded = claim_lines.hcpcs_code
        and claim_lines.service_date >= cases.index_date
        and claim_lines.service_date <= cases.window_end

),

ranked as (

    select
        *,
        row_number() over (partition by case_id order by evidence_date, exclusion_reason) as evidence_rank
    from evidence

)

select
    case_id,
    evidence_date,
    exclusion_reason
from ranked
where evidence_rank = 1
