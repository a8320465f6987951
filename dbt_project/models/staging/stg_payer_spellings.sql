{#- Every payer spelling the deliveries carry (claim payer names, enrollment payer names, and enrollment payer
    types followed by the payer name, trimmed and lower case) with the payer and payer type of the first payer_patterns row, by priority, whose
    case-insensitive pattern it contains; payer and payer_type are null when no pattern matches. Matching
    runs once per distinct spelling (a few hundred), never per claim line. Lines and spans counted as staged:
    latest line versions up to the as-of date. -#}
with claims as (

    select payer_key from {{ ref('base_medical_claim') }}
    where service_date <= cast('{{ run_var("as_of_date") }}' as date)

),

eligibility as (

    select * from {{ source('raw', 'eligibility') }}
    where enrollment_start_date is null
       or enrollment_start_date <= cast('{{ run_var("as_of_date") }}' as date)

),

patterns as (

    select * from {{ ref('payer_patterns') }}

),

delivered as (

    select payer_key as spelling, count(*) as claim_lines, 0 as enrollment_spans
    from claims
    group by 1

    union all

    select {{ normalize_payer_key('payer') }}, 0, count(*)
    from eligibility
    group by 1

    union all

    select {{ enrollment_type_key('payer_type', 'payer') }}, 0, count(*)
    from eligibility
    group by 1

),

spellings as (

    select
        spelling,
        sum(claim_lines) as claim_lines,
        sum(enrollment_spans) as enrollment_spans
    from delivered
    where spelling is not null and spelling <> ''
    group by spelling

),

matches as (

    select
        spellings.spelling,
        patterns.priority,
        patterns.pattern,
        patterns.payer,
        patterns.payer_type,
        row_number() over (partition by spellings.spelling order by patterns.priority) as match_rank
    from spellings
    inner join patterns
        on {{ matches_regex('spellings.spelling', 'patterns.pattern') }}

)

select
    spellings.spelling,
    matches.payer,
    matches.payer_type,
    matches.priority as pattern_priority,
    matches.pattern,
    spellings.claim_lines,
    spellings.enrollment_spans
from spellings
left join matches
    on spellings.spelling = matches.spelling
    and matches.match_rank = 1
