{#- The FROM clause pairing each distinct diagnosis code of `diagnoses` with the rows of `value_sets` whose
    `diagnosis_code_prefix` it starts with (measure 220's visit lines and exclusions). The prefixes are matched
    against the distinct codes (thousands), not against every diagnosis row (tens of millions at 1M persons): a LIKE
    join cannot be hashed; the readers then join the diagnosis rows on the matched codes, an equality. -#}
{% macro diagnosis_codes_under_prefixes(diagnoses, value_sets) -%}
    (select distinct diagnosis_code from {{ diagnoses }}) as codes
    inner join {{ value_sets }}
        on codes.diagnosis_code like {{ dbt.concat([value_sets ~ '.diagnosis_code_prefix', "'%'"]) }}
{%- endmacro %}
