"""The two tables made from the already suppressed measure_performance: what they may show depends on which
entity rates the publication hides, so they come after suppression (the exact inputs are dbt models)."""

from __future__ import annotations

import duckdb

from orchestration.publish.reference_data import Parameters

RATE_SUPPRESSED_NOTE = "the performance rate is suppressed (derived from a count of 1-10)"


def build_benchmarks(con: duckdb.DuckDBPyConnection, exact_performance: str, published_performance: str,
                     target: str, params: Parameters) -> None:
    """Percentiles over entities with enough cases; a percentile equal to a hidden entity rate is hidden too."""
    fractions = "[" + ", ".join(f"{p / 100:.2f}" for p in params.benchmark_percentiles) + "]"
    percentiles = "[" + ", ".join(str(p) for p in params.benchmark_percentiles) + "]"
    con.execute(
        f"""
        create or replace table {target} as
        with entities as (
            select * from {exact_performance}
            where entity_level <> 'all' and eligible_population >= {int(params.benchmark_min_cases)}
        ),
        quantiles as (
            select measure_id, stratum, performance_year, entity_level, count(*) as n_entities,
                   {percentiles} as percentiles,
                   quantile_cont(performance_rate_pct::double, {fractions}) as rates
            from entities group by all
        ),
        long as (
            select measure_id, stratum, performance_year, entity_level, n_entities,
                   unnest(percentiles) as percentile, round(unnest(rates), 2)::decimal(5, 2) as rate
            from quantiles
        ),
        hidden_rates as (
            select distinct e.measure_id, e.stratum, e.performance_year, e.entity_level, e.performance_rate_pct
            from entities as e
            join {published_performance} as p
              on p.measure_id = e.measure_id and p.stratum = e.stratum
             and p.performance_year = e.performance_year and p.entity_level = e.entity_level
             and p.tin is not distinct from e.tin and p.rendering_npi is not distinct from e.rendering_npi
            where p.performance_rate_pct_suppressed
        )
        select long.measure_id, long.stratum, long.performance_year, long.entity_level, long.n_entities,
               long.percentile,
               case when hidden_rates.performance_rate_pct is null then long.rate end as performance_rate_pct,
               hidden_rates.performance_rate_pct is not null as performance_rate_pct_suppressed
        from long
        left join hidden_rates
          on hidden_rates.measure_id = long.measure_id and hidden_rates.stratum = long.stratum
         and hidden_rates.performance_year = long.performance_year
         and hidden_rates.entity_level = long.entity_level and hidden_rates.performance_rate_pct = long.rate
        """
    )


def hide_suppressed_positions(con: duckdb.DuckDBPyConnection, exact_position: str, published_performance: str,
                              target: str) -> None:
    """The benchmark position (dbt model) with the published rate in place of the exact one: where that rate is
    suppressed, a positioned entity becomes rate_suppressed and its decile, points and benchmark year are hidden
    (they would reveal the rate)."""
    con.execute(
        f"""
        create or replace table {target} as
        with joined as (
            select x.*, p.performance_rate_pct as published_rate, p.performance_rate_pct_suppressed as hidden,
                   x.position_status = 'positioned' and p.performance_rate_pct_suppressed as rate_suppressed
            from {exact_position} as x
            join {published_performance} as p
              on p.measure_id = x.measure_id and p.performance_year = x.performance_year
             and p.stratum = 'all' and p.entity_level = x.entity_level
             and p.tin is not distinct from x.tin and p.rendering_npi is not distinct from x.rendering_npi
        )
        select measure_id, performance_year, entity_level, tin, rendering_npi, submission_method,
               case when performance_rate_pct is not null then published_rate end as performance_rate_pct,
               performance_rate_pct is not null and hidden as performance_rate_pct_suppressed,
               case when not rate_suppressed then benchmark_year end as benchmark_year,
               case when not rate_suppressed then decile end as decile,
               case when not rate_suppressed then achievement_points end as achievement_points,
               benchmark,
               case when rate_suppressed then 'rate_suppressed' else position_status end as position_status,
               case when rate_suppressed then '{RATE_SUPPRESSED_NOTE}' else position_note end as position_note
        from joined
        order by measure_id, performance_year, entity_level, tin, rendering_npi
        """
    )
