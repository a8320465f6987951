{#- The unit digests the code tables were built from: written after every by-unit model (the depends_on lines),
    so that an interrupted build leaves the previous digests and the next build rebuilds what it had touched.
    A build that selects this model without all the by-unit models (a hand-picked selection in the Dagster UI, or
    `dbt build -s`) keeps the previous digests: the tables it left out were not built from the new ones.
    Grain - one row per code, year and quarter. -#}
{%- set by_unit_models = ['code_overview', 'code_by_payer', 'code_by_place_of_service', 'code_by_provider_taxonomy',
                          'code_modifiers', 'code_related_diagnoses', 'code_related_procedures'] -%}
{%- for name in by_unit_models %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
{{ config(materialized=reporting_digests_materialization()) }}
{%- set left_out = [] -%}
{#- only where the digests are read (a view elsewhere: nothing to keep, and it would select from itself) -#}
{%- if execute and reporting_materialization() == 'incremental' -%}
    {%- for name in by_unit_models if ('model.' ~ project_name ~ '.' ~ name) not in selected_resources -%}
        {%- do left_out.append(name) -%}
    {%- endfor -%}
{%- endif -%}
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier)
                   if execute and left_out else none %}

{% if previous is not none -%}
-- kept: {{ left_out | join(', ') }} not in this build (as an older version wrote them, by year, if it did: the
-- next complete build then rebuilds every unit)
select {{ 'code, year, quarter, digest, reference_digest' if reporting_units_built(this) is not none else '*' }}
from {{ previous }}
{%- else -%}
select code, year, quarter, digest, reference_digest
from {{ ref('int_reporting__unit_digests') }}
where digest is not null
{%- endif %}
