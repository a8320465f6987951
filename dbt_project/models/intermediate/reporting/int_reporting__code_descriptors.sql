{#- Every code the code tables can name - the billing codes on the lines and every quality-data code of the
    seed - with its code system (the first code_systems row, by name, whose pattern matches the whole code),
    whether it is a quality-data code, and the seed's CMS descriptor and labels. CPT descriptors are licensed:
    they come only from a file the user supplies (source labels.cpt_descriptors, empty without one).
    Grain - one row per code. -#}
with line_codes as (

    select distinct code from {{ ref('int_reporting__code_lines') }}

),

quality_data_codes as (

    select
        upper(trim(hcpcs_code)) as code,
        long_descriptor,
        source,
        measure_note,
        role_note,
        status
    from {{ ref('quality_data_codes') }}

),

code_systems as (

    select * from {{ ref('code_systems') }}

),

cpt_descriptors as (

    select * from {{ source('labels', 'cpt_descriptors') }}

),

codes as (

    select code from line_codes
    union
    select code from quality_data_codes

),

typed as (

    select codes.code, min(code_systems.code_type) as code_type
    from codes
    left join code_systems
        on {{ matches_regex('codes.code', dbt.concat(["'^(?:'", 'code_systems.pattern', "')$'"])) }}
    group by codes.code

)

select
    typed.code,
    coalesce(typed.code_type, 'other') as code_type,
    quality_data_codes.code is not null as is_quality_data_code,
    coalesce(
        quality_data_codes.long_descriptor,
        case when typed.code_type like 'cpt%' then cpt_descriptors.descriptor end
    ) as descriptor,
    case
        when quality_data_codes.long_descriptor is not null then quality_data_codes.source
        when typed.code_type like 'cpt%' and cpt_descriptors.descriptor is not null then 'user-supplied CPT file'
    end as descriptor_source,
    quality_data_codes.measure_note,
    quality_data_codes.role_note,
    quality_data_codes.status as qdc_status
from typed
left join quality_data_codes
    on typed.code = quality_data_codes.code
left join cpt_descriptors
    on typed.code = cpt_descriptors.code
