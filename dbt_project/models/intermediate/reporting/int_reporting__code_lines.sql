{#- The claim lines the code tables count: every staged line with a billing code and a service date, with the
    rendering provider's taxonomy and the calendar year and quarter of the service date. A missing payer,
    place of service or taxonomy is reported as '(unknown)' rather than dropped. Grain - one row per claim_id
    and claim_line_number. -#}
with lines as (

    select * from {{ ref('stg_medical_claim') }}

),

providers as (

    select * from {{ ref('stg_provider') }}

)

select
    lines.claim_id,
    lines.claim_line_number,
    lines.person_id,
    lines.hcpcs_code as code,
    coalesce(lines.payer, '(unknown)') as payer,
    lines.payer_type,
    coalesce(lines.place_of_service_code, '(unknown)') as place_of_service_code,
    lines.rendering_npi,
    coalesce(providers.taxonomy_code, '(unknown)') as taxonomy_code,
    lines.rendering_tin,
    lines.service_unit_quantity as units,
    lines.allowed_amount,
    lines.paid_amount,
    lines.service_date,
    cast(extract(year from lines.service_date) as {{ dbt.type_bigint() }}) as year,
    cast(extract(quarter from lines.service_date) as {{ dbt.type_bigint() }}) as quarter
from lines
left join providers
    on lines.rendering_npi = providers.npi
where lines.hcpcs_code is not null
    and lines.service_date is not null
