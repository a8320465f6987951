{#- The reporting models by unit (docs/performance.md, "Incremental reporting models"). The code tables' rows of a
    billing code and calendar year (its quarter rows and its year row: a unit, as the publication's suppression
    units) depend only on that unit's code lines, the claims they are on and small reference data. An incremental
    build rebuilds only the units whose inputs changed since the reporting tables were last built:
    int_reporting__unit_digests hashes each unit's inputs and compares them with the digests the tables were built
    from (int_reporting__unit_digests_built, written after them); the code tables delete the touched units' rows
    (pre-hook) and append them again, computed from the touched units' lines only. -#}

{#- How the by-unit models are built: as the claim staging (claim_materialization, the engine's one decision):
    incremental where the engine can delete rows (DuckDB), tables rebuilt in full on Spark (Parquet, no DELETE). -#}
{% macro reporting_materialization() -%}
    {{ return(claim_materialization()) }}
{%- endmacro %}

{#- The unit digests are read only by incremental builds: a table where the reporting models are incremental, a
    view (never read, so never computed) where they are rebuilt in full. -#}
{% macro reporting_digests_materialization() -%}
    {{ return('table' if reporting_materialization() == 'incremental' else 'view') }}
{%- endmacro %}

{#- A 64-bit hash of the values, as a decimal so that sums of hashes neither overflow nor wrap differently by
    engine; the sum over a unit's rows is an order-independent digest of the set of rows. -#}
{% macro row_hash(expressions) -%}
    {{ return(adapter.dispatch('row_hash')(expressions)) }}
{%- endmacro %}

{% macro default__row_hash(expressions) -%}
    cast(hash({{ expressions | join(', ') }}) as decimal(38, 0))
{%- endmacro %}

{% macro spark__row_hash(expressions) -%}
    cast(xxhash64({{ expressions | join(', ') }}) as decimal(38, 0))
{%- endmacro %}

{#- The code the reporting models are computed by (their source and the text of the macros they share): a new
    version of it rebuilds every unit. -#}
{% macro reporting_code_checksum() -%}
    {%- set parts = [period_columns(), period_grouping(['code']), line_counts(), related_code_counts('p', 'd', 'n'),
                     share_pct('a', 'b'), publication_parameter('name', 'type')] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id')
                if node.resource_type == 'model' and node.package_name == project_name and 'reporting' in node.fqn -%}
            {%- do parts.append(node.unique_id ~ ':' ~ node.checksum.checksum) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#- The digests the reporting tables were last built from; none before the first complete build. Read by name, not
    by ref: the model is written after the by-unit models. `digests`: int_reporting__unit_digests, whose schema
    it shares. -#}
{% macro reporting_units_built(digests) -%}
    {{ return(adapter.get_relation(database=digests.database, schema=digests.schema,
                                   identifier='int_reporting__unit_digests_built') if execute else none) }}
{%- endmacro %}

{#- Pre-hook of the by-unit models: an incremental build first deletes the rows of the touched units (those whose
    inputs changed, and those that have no line any more); the build then appends the touched units' new rows.
    Without built digests (a table built by a version before the by-unit models) every row goes. -#}
{% macro delete_touched_units() -%}
    {%- if is_incremental() and reporting_units_built(ref('int_reporting__unit_digests')) is none %}
    delete from {{ this }}
    {%- elif is_incremental() %}
    delete from {{ this }} as held
    where exists (
        select 1 from {{ ref('int_reporting__unit_digests') }} as touched
        where touched.is_touched and touched.code = held.code and touched.year = held.year
    )
    {%- endif %}
{%- endmacro %}

{#- A filter on the code lines (alias `lines`) an incremental build reads: those of the touched units. Nothing
    on a full build. -#}
{% macro touched_units_only(lines) -%}
    {%- if is_incremental() %}
    where exists (
        select 1 from {{ ref('int_reporting__unit_digests') }} as touched
        where touched.is_touched and touched.code = {{ lines }}.code and touched.year = {{ lines }}.year
    )
    {%- endif %}
{%- endmacro %}

{#- An order-independent digest of every row of `relation` (its columns read when the build runs). -#}
{% macro table_digest(relation) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    (select coalesce(sum({{ row_hash(columns | map(attribute='quoted') | list if columns else ['1']) }}), 0)
     from {{ relation }})
{%- endmacro %}
