{#- The denominator exclusion of each episode, from rehab_exclusions of the episode's performance year: an
    exclusion code applies when a diagnosis of its diagnosis value set (the set of the episode's performance
    year, whenever the diagnosis was recorded) is dated on or before the episode end, or when the code itself is
    reported on a line dated from the start through the end. Of several, the lowest priority wins, then the
    earliest evidence. Grain - one row per episode that is excluded. -#}
{%- set text = api.Column.translate_type("string") -%}
with episodes as (

    select * from {{ ref('int_rehab__episodes') }}

),

claims as (

    select * from {{ ref('stg_medical_claim') }}

),

diagnoses as (

    select * from {{ ref('stg_claim_diagnosis') }}

),

rehab_diagnoses as (

    select * from {{ ref('rehab_diagnoses') }}

),

exclusion_rules as (

    select * from {{ ref('rehab_exclusions') }}

),

episode_rules as (

    select
        episodes.episode_id,
        episodes.person_id,
        episodes.start_date,
        episodes.end_date,
        exclusion_rules.priority,
        exclusion_rules.exclusion_code,
        exclusion_rules.diagnosis_value_set,
        exclusion_rules.description
    from episodes
    inner join exclusion_rules
        on episodes.measure_id = exclusion_rules.measure_id
        and {{ year_in_range('cast(extract(year from episodes.end_date) as integer)',
                             'exclusion_rules.performance_year_from', 'exclusion_rules.performance_year_to') }}

),

{#- the exclusion value sets' prefixes matched against the distinct diagnosis codes: one row per code and value-set
    row it matches -#}
value_set_codes as (

    select
        codes.diagnosis_code,
        rehab_diagnoses.value_set,
        rehab_diagnoses.diagnosis_code_prefix,
        rehab_diagnoses.performance_year_from,
        rehab_diagnoses.performance_year_to
    from {{ diagnosis_codes_under_prefixes('diagnoses', 'rehab_diagnoses') }}
    where rehab_diagnoses.value_set in (select diagnosis_value_set from exclusion_rules)

),

{#- the first diagnosis of each person under each value-set row of the exclusion value sets (they are small) -#}
first_diagnoses as (

    select *
    from (
        select
            diagnoses.person_id,
            value_set_codes.value_set,
            value_set_codes.performance_year_from,
            value_set_codes.performance_year_to,
            diagnoses.service_date,
            diagnoses.diagnosis_code,
            row_number() over (
                partition by diagnoses.person_id, value_set_codes.value_set, value_set_codes.diagnosis_code_prefix,
                             value_set_codes.performance_year_from
                order by diagnoses.service_date, diagnoses.diagnosis_code
            ) as diagnosis_rank
        from diagnoses
        inner join value_set_codes
            on diagnoses.diagnosis_code = value_set_codes.diagnosis_code
    ) as ranked
    where diagnosis_rank = 1

),

evidence as (

    select
        episode_rules.episode_id,
        episode_rules.priority,
        episode_rules.exclusion_code,
        first_diagnoses.service_date as evidence_date,
        {{ dbt.concat(['episode_rules.exclusion_code', "': '", 'episode_rules.description', "' (diagnosis '",
                       'first_diagnoses.diagnosis_code', "' on '", dbt.cast('first_diagnoses.service_date', text),
                       "')'"]) }} as exclusion_reason
    from episode_rules
    inner join first_diagnoses
        on episode_rules.person_id = first_diagnoses.person_id
        and episode_rules.diagnosis_value_set = first_diagnoses.value_set
        and {{ year_in_range('cast(extract(year from episode_rules.end_date) as integer)',
                             'first_diagnoses.performance_year_from', 'first_diagnoses.performance_year_to') }}
        and first_diagnoses.service_date <= episode_rules.end_date

    union all

    select
        episode_rules.episode_id,
        episode_rules.priority,
        episode_rules.exclusion_code,
        claims.service_date as evidence_date,
        {{ dbt.concat(['episode_rules.exclusion_code', "': '", 'episode_rules.description', "' ('",
                       'claims.hcpcs_code', "' reported on '", dbt.cast('claims.service_date', text), "')'"]) }}
            as exclusion_reason
    from episode_rules
    inner join claims
        on episode_rules.person_id = claims.person_id
        and episode_rules.exclusion_code = claims.hcpcs_code
        and claims.service_date >= episode_rules.start_date
        and claims.service_date <= episode_rules.end_date

),

ranked as (

    select
        *,
        row_number() over (
            partition by episode_id order by priority, evidence_date, exclusion_reason
        ) as evidence_rank
    from evidence

)

select
    episode_id,
    exclusion_code,
    evidence_date,
    exclusion_reason
from ranked
where evidence_rank = 1
