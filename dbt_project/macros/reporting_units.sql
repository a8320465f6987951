{#- The reporting models by unit (docs/performance.md, "The code tables by unit"). The code tables' rows of a
    billing code and calendar year (its quarter rows and its year row: a unit, as the publication's suppression
    units) depend only on that unit's code lines, the claims they are on and small reference data. An incremental
    build rebuilds only the units whose inputs changed since the reporting tables were last built:
    int_reporting__unit_digests hashes the inputs of each code and quarter and compares them with the digests the
    tables were built from (int_reporting__unit_digests_built, written after them); a year is touched when one of
    its quarters is. The code tables delete the touched units' rows (pre-hook) and append them again, computed
    from the touched units' lines only. code_overview, code_by_payer, code_by_place_of_service and
    code_by_provider_taxonomy go by quarter (counts_by_period): a year row is counted again from its year's lines,
    a quarter row only when its own quarter is touched, so a December delivery leaves the rows of the year's first
    three quarters as they were. The related-code tables keep a top n per year (a year's new ranking moves its
    untouched quarters' rows) and code_modifiers is small: they rebuild the touched years whole. -#}

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
                     share_pct('a', 'b'), publication_parameter('name', 'type'),
                     counts_by_period(['code', 'k'], 'count(*)', 'j')] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id')
                if node.resource_type == 'model' and node.package_name == project_name and 'reporting' in node.fqn -%}
            {%- do parts.append(node.unique_id ~ ':' ~ node.checksum.checksum) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#- The digests the reporting tables were last built from; none before the first complete build, and none when
    an older version wrote them by year (no quarter column: every unit is rebuilt). Read by name, not by ref: the
    model is written after the by-unit models. `digests`: int_reporting__unit_digests, whose schema it shares. -#}
{% macro reporting_units_built(digests) -%}
    {%- set built = adapter.get_relation(database=digests.database, schema=digests.schema,
                                         identifier='int_reporting__unit_digests_built') if execute else none -%}
    {%- if built is not none
            and 'quarter' not in adapter.get_columns_in_relation(built) | map(attribute='name') | map('lower') -%}
        {%- set built = none -%}
    {%- endif -%}
    {{ return(built) }}
{%- endmacro %}

{#- Pre-hook of the by-unit models: an incremental build first deletes the rows of the touched units (those whose
    inputs changed, and those that have no line any more); the build then appends the touched units' new rows.
    Without built digests (a table built by a version before the by-unit models) every row goes. `by_quarter`
    (the code tables by quarter, delete_touched_periods): of a touched year, its year rows and the rows of its
    touched quarters only; the untouched quarters' rows stay. -#}
{% macro delete_touched_units(by_quarter=false) -%}
    {%- if is_incremental() and reporting_units_built(ref('int_reporting__unit_digests')) is none %}
    delete from {{ this }}
    {%- elif is_incremental() %}
    delete from {{ this }} as held
    where exists (
        select 1 from {{ ref('int_reporting__unit_digests') }} as touched
        where touched.is_touched and touched.code = held.code and touched.year = held.year
        {%- if by_quarter %}
            and (held.period_type = 'year' or touched.quarter = held.quarter)
        {%- endif %}
    )
    {%- endif %}
{%- endmacro %}

{% macro delete_touched_periods() -%}
    {{ delete_touched_units(by_quarter=true) }}
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

{#- The counts of a code table by quarter: `measures` (select-list text) of the code lines (alias `lines`, with
    `joins` text after it) per `keys` (the first one before the period columns, as every code table lists them)
    and period. A full build reads every line once and groups it by year and by quarter (period_grouping). An
    incremental one counts the year rows from the touched years' lines and the quarter rows from the touched
    quarters' lines, two aggregations: a December delivery counts 2025's year rows from its twelve months, its
    quarter rows from its last three (one aggregation over both sets of lines costs more: measured, docs). The
    quarter filter is a tuple IN, not EXISTS: DuckDB filters the lines with it for a third of the CPU. -#}
{% macro counts_by_period(keys, measures, joins='') -%}
    {%- set rest = keys[1:] | join(', ') ~ (', ' if keys | length > 1 else '') -%}
    {%- if is_incremental() %}
    select
        {{ keys[0] }},
        'year' as period_type,
        {{ dbt.cast('year', dbt.type_string()) }} as period,
        year,
        cast(null as {{ dbt.type_bigint() }}) as quarter,
        {{ rest }}{{ measures }}
    from {{ ref('int_reporting__code_lines') }} as lines
    {{ joins }}
    {{- touched_units_only('lines') }}
    group by {{ keys | join(', ') }}, year
    union all
    select
        {{ keys[0] }},
        'quarter' as period_type,
        {{ dbt.concat([dbt.cast('year', dbt.type_string()), "'-Q'", dbt.cast('quarter', dbt.type_string())]) }} as period,
        year,
        quarter,
        {{ rest }}{{ measures }}
    from {{ ref('int_reporting__code_lines') }} as lines
    {{ joins }}
    where (lines.code, lines.year, lines.quarter) in (
        select code, year, quarter from {{ ref('int_reporting__unit_digests') }} where is_touched
    )
    group by {{ keys | join(', ') }}, year, quarter
    {%- else %}
    select
        {{ keys[0] }},
        {{ period_columns() }},
        {{ rest }}{{ measures }}
    from {{ ref('int_reporting__code_lines') }} as lines
    {{ joins }}
    {{ period_grouping(keys) }}
    {%- endif %}
{%- endmacro %}

{#- An order-independent digest of every row of `relation` (its columns read when the build runs). -#}
{% macro table_digest(relation) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    (select coalesce(sum({{ row_hash(columns | map(attribute='quoted') | list if columns else ['1']) }}), 0)
     from {{ relation }})
{%- endmacro %}
