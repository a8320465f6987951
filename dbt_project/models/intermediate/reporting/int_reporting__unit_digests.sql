{#- Which units (billing code and calendar year) of the code tables an incremental build rebuilds, by quarter
    (macros/reporting_units.sql: a year is rebuilt when one of its quarters is). A unit's rows depend on its code
    lines (every column: payer and payer type, place, taxonomy, amounts, ...) and on the claims they are on (claim_key: data_source with claim_id): the
    other lines' codes and quarters (related procedures), their diagnoses (related diagnoses) and modifiers, all
    given by the claim's line versions (lineage) up to the as-of date. The digest of a code's quarter is the sum
    of a hash per code line of its columns and of its claim's digest (the sum of a hash per line version of the
    claim). The rest - seeds, labels, the descriptors' inputs, publication parameters and the reporting code
    itself - is one reference digest: when it changes, every unit is rebuilt. A unit is touched when its digest differs from the one the reporting tables were last built from
    (int_reporting__unit_digests_built, read by name: it is written after them), is new, or has no line any more
    (then its digest is null). Without built digests (a first build, or an interrupted one) every unit is touched.
    Grain - one row per code, year and quarter. -#}
{{ config(materialized=reporting_digests_materialization()) }}

{#- where the code tables are rebuilt in full (Spark) nothing reads the digests, and the built digests are a view
    over this one: no comparison -#}
{%- set built = reporting_units_built(this) if reporting_materialization() == 'incremental' else none %}

with claim_digests as (

    select
        claim_key,
        sum({{ row_hash(['claim_line_number', '_delivery', '_loaded_at']) }}) as claim_digest
    from {{ ref('base_medical_claim') }}
    where service_date <= cast('{{ run_var("as_of_date") }}' as date)
    group by claim_key

),

units as (

    select
        lines.code,
        lines.year,
        lines.quarter,
        sum({{ row_hash(['lines.claim_key', 'lines.claim_line_number', 'lines.person_id', 'lines.payer',
                         'lines.payer_type', 'lines.place_of_service_code', 'lines.rendering_npi',
                         'lines.taxonomy_code', 'lines.rendering_tin', 'lines.units', 'lines.allowed_amount',
                         'lines.paid_amount', 'lines.service_date', 'claim_digests.claim_digest']) }}) as digest
    from {{ ref('int_reporting__code_lines') }} as lines
    left join claim_digests
        on lines.claim_key = claim_digests.claim_key
    group by lines.code, lines.year, lines.quarter

),

{#- the descriptors' inputs (their seeds and labels), not the descriptors: a new billing code adds a descriptor
    row, which must not rebuild every unit (its lines touch the units that name it: its own, and those of the codes
    on its claims) -#}
reference as (

    select {{ row_hash([
        "'" ~ reporting_code_checksum() ~ "'",
        table_digest(ref('place_of_service')),
        table_digest(ref('nucc_taxonomy')),
        table_digest(ref('modifier_rules')),
        table_digest(ref('publication_parameters')),
        table_digest(ref('quality_data_codes')),
        table_digest(ref('code_systems')),
        table_digest(source('labels', 'cpt_descriptors')),
        table_digest(source('labels', 'icd10_cm')),
    ]) }} as reference_digest

)

{%- if built is none %}

select units.code, units.year, units.quarter, units.digest, reference.reference_digest, true as is_touched
from units
cross join reference

{%- else %}

select
    coalesce(units.code, built.code) as code,
    coalesce(units.year, built.year) as year,
    coalesce(units.quarter, built.quarter) as quarter,
    units.digest,
    reference.reference_digest,
    (units.digest is null or built.digest is null or units.digest <> built.digest
     or built.reference_digest <> reference.reference_digest) as is_touched
from units
full outer join {{ built }} as built
    on units.code = built.code
    and units.year = built.year
    and units.quarter = built.quarter
cross join reference

{%- endif %}
