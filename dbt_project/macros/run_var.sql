{#- A value the run decides: the as-of date, the measure-220 TINs in scope, the pinned risk-model version.

    In order: the var, when one is given (`--vars` on the command line, a unit test's `overrides: vars`); else the
    pipeline's run context, the JSON object in the environment variable DBT_RUN_CONTEXT that the Dagster dbt step
    sets (orchestration/assets/dbt_models.py); else the default below.

    Why not `--vars` from the pipeline: dbt re-parses the whole project whenever the command line's vars differ
    from the last parse, and the as-of date differs from run to run. The environment variable is read only while
    executing (`execute`), never while parsing, so dbt does not record it among the variables that invalidate a
    parsed file either: a run re-parses only the files that changed (docs/performance.md, "Fixed costs"). -#}
{% macro run_var(name) -%}
    {%- set defaults = {
        'as_of_date': '2099-12-31',
        'measure_220_tins_in_scope': [],
        'risk_model_version': none,
    } -%}
    {%- if name not in defaults -%}
        {{ exceptions.raise_compiler_error("run_var: unknown run variable '" ~ name ~ "' (known: " ~ defaults.keys() | join(', ') ~ ")") }}
    {%- endif -%}
    {%- set given = var(name, none) -%}
    {%- if given is not none -%}
        {{ return(given) }}
    {%- endif -%}
    {%- if execute -%}
        {%- set context = fromjson(env_var('DBT_RUN_CONTEXT', '{}')) -%}
        {%- if context.get(name) is not none -%}
            {{ return(context[name]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(defaults[name]) }}
{%- endmacro %}
