-- $sample_rows bounds memory on large tables (reservoir sample, fixed seed); the raw join finds each
-- line's latest delivery, whose month end bounds its service date.
with sampled as (
    select * from staging.stg_medical_claim
    using sample reservoir($sample_rows rows) repeatable ($sample_seed)
),

latest_delivery as (
    select raw.claim_id, raw.claim_line_number, max(raw._delivery) as delivery
    from raw.medical_claim as raw
    semi join sampled using (claim_id, claim_line_number)
    group by raw.claim_id, raw.claim_line_number
),

npi_digits as (
    select
        claim_id,
        claim_line_number,
        rendering_npi,
        regexp_full_match(coalesce(rendering_npi, ''), '[0-9]{10}') as is_ten_digits
    from sampled
),

npi_checked as (
    -- NPI Luhn: prefix 80840 contributes 24; digits 1,3,5,7,9 are doubled (minus 9 when over 9).
    select
        claim_id,
        claim_line_number,
        case
            when rendering_npi is null then null
            when not is_ten_digits then rendering_npi
            when (
                24 + list_sum(list_transform(range(1, 10), lambda i:
                    case when i % 2 = 1
                        then 2 * cast(substr(rendering_npi, i, 1) as integer)
                            - case when 2 * cast(substr(rendering_npi, i, 1) as integer) > 9 then 9 else 0 end
                        else cast(substr(rendering_npi, i, 1) as integer)
                    end))
                + cast(substr(rendering_npi, 10, 1) as integer)
            ) % 10 <> 0 then rendering_npi
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
    date_diff(
        'day',
        last_day(try_strptime(latest_delivery.delivery || '-01', '%Y-%m-%d')::date),
        sampled.service_date
    ) as days_after_delivery_end
from sampled
left join npi_checked using (claim_id, claim_line_number)
left join latest_delivery using (claim_id, claim_line_number)
