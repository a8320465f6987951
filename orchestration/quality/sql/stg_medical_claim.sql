-- $sampled bounds memory on large tables (a fixed-seed sample of $sample_rows rows); the raw join finds each
-- line's latest delivery, whose month end bounds its service date. The template names are what DuckDB and Spark SQL spell
-- differently (orchestration/quality/frames.py).
with sampled as (
    $sampled
),

-- a line is claim_id + claim_line_number + data_source (an empty data_source is one source of its own)
latest_delivery as (
    select raw.claim_id, raw.claim_line_number, nullif(raw.data_source, '') as data_source,
           max(raw._delivery) as delivery
    from raw.medical_claim as raw
    $semi_join sampled
        on sampled.claim_id = raw.claim_id and sampled.claim_line_number = raw.claim_line_number
        and sampled.data_source is not distinct from nullif(raw.data_source, '')
    group by raw.claim_id, raw.claim_line_number, nullif(raw.data_source, '')
),

npi_digits as (
    select
        claim_key,
        claim_line_number,
        rendering_npi,
        $ten_digits as is_ten_digits
    from sampled
),

npi_checked as (
    -- NPI Luhn: prefix 80840 contributes 24; digits 1,3,5,7,9 are doubled (minus 9 when over 9).
    select
        claim_key,
        claim_line_number,
        case
            when rendering_npi is null then null
            when not is_ten_digits then rendering_npi
            when (24 + $luhn_digit_sum + cast(substr(rendering_npi, 10, 1) as integer)) % 10 <> 0 then rendering_npi
        end as rendering_npi_failing_luhn
    from npi_digits
)

select
    sampled.hcpcs_code,
    sampled.place_of_service_code,
    sampled.rendering_npi,
    npi_checked.rendering_npi_failing_luhn,
    sampled.service_date,
    latest_delivery.delivery,
    $days_after_delivery_end as days_after_delivery_end
from sampled
left join npi_checked
    on npi_checked.claim_key = sampled.claim_key and npi_checked.claim_line_number = sampled.claim_line_number
left join latest_delivery
    on latest_delivery.claim_id = sampled.claim_id and latest_delivery.claim_line_number = sampled.claim_line_number
    and latest_delivery.data_source is not distinct from sampled.data_source
