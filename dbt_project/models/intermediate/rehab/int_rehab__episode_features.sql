{#- The open risk model's design matrix in long form: one value per episode and term of risk_model_terms, the
    term computed from the episode input it names (int_rehab__episode_inputs) by its operator - constant 1,
    the input's value, 1 when the input is in [lower_bound, upper_bound] (an empty bound is open), 1 when the
    input equals match_value. A term whose input is missing for the episode is 0 for range/equals and null for
    value. Adding a band or a category is a seed row; adding an input is a column of the inputs model and a
    branch below. Grain - one row per episode_id and term. -#}
{%- set numeric_inputs = ['intake_fs', 'age_years', 'acuity_days', 'prior_lumbar_surgery', 'comorbidity_count'] -%}
{%- set text_inputs = ['sex', 'payer_type'] -%}
with inputs as (

    select * from {{ ref('int_rehab__episode_inputs') }}

),

terms as (

    select * from {{ ref('risk_model_terms') }}

),

long_inputs as (

    {%- for column in numeric_inputs %}
    select episode_id, '{{ column }}' as input, cast({{ column }} as decimal(18, 3)) as numeric_value,
           cast(null as {{ dbt.type_string() }}) as text_value
    from inputs
    union all
    {%- endfor %}
    {%- for column in text_inputs %}
    select episode_id, '{{ column }}' as input, cast(null as decimal(18, 3)) as numeric_value,
           cast({{ column }} as {{ dbt.type_string() }}) as text_value
    from inputs
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

episode_terms as (

    select
        inputs.episode_id,
        inputs.measure_id,
        terms.term,
        terms.input,
        terms.operator,
        terms.lower_bound,
        terms.upper_bound,
        terms.match_value
    from inputs
    inner join terms
        on inputs.measure_id = terms.measure_id

)

select
    episode_terms.episode_id,
    episode_terms.measure_id,
    episode_terms.term,
    cast(
        case episode_terms.operator
            when 'constant' then 1
            when 'value' then long_inputs.numeric_value
            when 'range' then
                case
                    when long_inputs.numeric_value is not null
                        and (episode_terms.lower_bound is null or long_inputs.numeric_value >= episode_terms.lower_bound)
                        and (episode_terms.upper_bound is null or long_inputs.numeric_value <= episode_terms.upper_bound)
                    then 1 else 0
                end
            when 'equals' then case when long_inputs.text_value = episode_terms.match_value then 1 else 0 end
        end
    as decimal(18, 3)) as value
from episode_terms
left join long_inputs
    on episode_terms.episode_id = long_inputs.episode_id
    and episode_terms.input = long_inputs.input
