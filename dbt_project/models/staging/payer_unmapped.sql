{#- The payer spellings no payer_patterns row maps, what an operator adds to the seed.
    Their lines keep the delivered name with the enrollment's payer type, else 'other'. A warn-severity test
    (a non-blocking check in Dagster) fails while any is listed. -#}
select
    spelling,
    claim_lines,
    enrollment_spans
from {{ ref('stg_payer_spellings') }}
where payer_type is null
