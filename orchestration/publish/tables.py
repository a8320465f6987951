"""The code-level and measure-level tables, computed in DuckDB from the warehouse into a scratch schema.

Every table here holds exact (unsuppressed) counts; `SPECS` says how each one is suppressed before it is
published. The warehouse is the connection's default catalog; `work` is a scratch catalog that is thrown away.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import simple_icd_10_cm as icd10

from orchestration.publish.reference_data import Parameters
from orchestration.publish.suppression import Group, TableSpec

PERIOD_KEY = ("code", "period_type", "period")
QUARTERS_OF_A_YEAR = "period_type = 'quarter'"


def _by_period(*dims: str) -> tuple[Group, ...]:
    """A dimension's cells of one code-period sum to the code's overview row; its quarters sum to its year row."""
    return (
        Group(PERIOD_KEY),
        Group(("code", "year", *dims), QUARTERS_OF_A_YEAR),
    )


LINE_COUNTS = ("claim_lines", "claims", "persons")
ENTITY_GROUPS = (
    Group(("measure_id", "stratum", "performance_year"), "entity_level = 'tin'"),
    Group(("measure_id", "stratum", "performance_year", "tin"), "entity_level = 'tin_npi'"),
)

FOLLOW_UP_COUNTS = (
    "open_cases", "scored_in_window", "open_missing_score", "not_yet_due", "due_now", "closing_soon", "missed",
)

SPECS: dict[str, TableSpec] = {
    "code_catalog": TableSpec(
        name="code_catalog",
        counts=("claim_lines", "claims", "persons", "cases_assigned"),
        derived={"first_service_date": ("claim_lines",), "last_service_date": ("claim_lines",)},
    ),
    "code_overview": TableSpec(
        name="code_overview",
        counts=("claim_lines", "claims", "persons", "rendering_npis", "units"),
        groups=(Group(("code", "year"), QUARTERS_OF_A_YEAR), Group(("code",), "period_type = 'year'")),
        derived={
            "allowed_amount": ("claim_lines",),
            "paid_amount": ("claim_lines",),
            "first_service_date": ("claim_lines",),
            "last_service_date": ("claim_lines",),
        },
    ),
    "code_by_payer": TableSpec(
        name="code_by_payer",
        counts=LINE_COUNTS,
        groups=_by_period("payer", "payer_type"),
        derived={
            "allowed_amount": ("claim_lines",),
            "paid_amount": ("claim_lines",),
            "share_of_claim_lines_pct": ("claim_lines",),
        },
    ),
    "code_by_place_of_service": TableSpec(
        name="code_by_place_of_service",
        counts=LINE_COUNTS,
        groups=_by_period("place_of_service_code"),
        derived={"share_of_claim_lines_pct": ("claim_lines",)},
    ),
    "code_by_provider_taxonomy": TableSpec(
        name="code_by_provider_taxonomy",
        counts=(*LINE_COUNTS, "rendering_npis"),
        groups=_by_period("taxonomy_code"),
        derived={"share_of_claim_lines_pct": ("claim_lines",)},
    ),
    "code_modifiers": TableSpec(
        name="code_modifiers",
        counts=LINE_COUNTS,
        # A line carries several modifiers, so modifier cells do not add up to the code's total; quarters do.
        groups=(Group(("code", "year", "modifier"), QUARTERS_OF_A_YEAR),),
        derived={"share_of_claim_lines_pct": ("claim_lines",)},
    ),
    "code_related_diagnoses": TableSpec(
        name="code_related_diagnoses",
        counts=("claims", "persons"),
        groups=(Group(("code", "year", "diagnosis_code"), QUARTERS_OF_A_YEAR),),
        derived={"share_of_claims_pct": ("claims",)},
    ),
    "code_related_procedures": TableSpec(
        name="code_related_procedures",
        counts=("claims", "persons"),
        groups=(Group(("code", "year", "related_code"), QUARTERS_OF_A_YEAR),),
        derived={"share_of_claims_pct": ("claims",)},
    ),
    "measure_performance": TableSpec(
        name="measure_performance",
        counts=("cases", "pending", "not_eligible", "excluded", "eligible_population", "met", "not_met",
                "not_measured"),
        groups=(
            Group(("measure_id", "performance_year", "entity_level", "tin", "rendering_npi"), "stratum <> 'all'"),
            *ENTITY_GROUPS,
        ),
        row_sets=(
            ("eligible_population", "met", "not_met", "not_measured"),
            ("cases", "pending", "not_eligible", "excluded", "eligible_population"),
        ),
        derived={
            # met / eligible: it reveals no more than its two counts (the split of the rest is not in it)
            "performance_rate_pct": ("met", "eligible_population"),
            "reporting_rate_pct": ("met", "not_met", "not_measured", "eligible_population"),
        },
    ),
    "measure_benchmarks": TableSpec(name="measure_benchmarks", counts=("n_entities",)),
    # Built from the already suppressed measure_performance (build_benchmark_position): no count of its own.
    "measure_benchmark_position": TableSpec(name="measure_benchmark_position", counts=()),
    "follow_up_worklist_counts": TableSpec(
        name="follow_up_worklist_counts",
        counts=FOLLOW_UP_COUNTS,
        # a measure's TIN rows add up to its 'all' row: together they are one additive set
        groups=(Group(("measure_id",)),),
        row_sets=(
            ("open_cases", "scored_in_window", "open_missing_score"),
            ("open_missing_score", "not_yet_due", "due_now", "closing_soon"),
        ),
        derived={"open_missing_score_pct": ("open_cases", "open_missing_score")},
    ),
    "reporting_accuracy": TableSpec(
        name="reporting_accuracy",
        counts=("supported_cases", "agree", "conflicting", "supported_not_billed", "billed_without_support"),
        groups=(
            Group(("code", "measure_id", "performance_year"), "entity_level = 'tin'"),
            Group(("code", "measure_id", "performance_year", "tin"), "entity_level = 'tin_npi'"),
        ),
        row_sets=(("supported_cases", "agree", "conflicting", "supported_not_billed"),),
        derived={"agreement_rate_pct": ("agree", "supported_cases")},
    ),
}


def load_cpt_descriptors(con: duckdb.DuckDBPyConnection, work: str, path: Path | None) -> None:
    """CPT descriptors are AMA-licensed: only a user-supplied file (columns code, descriptor) provides them."""
    if path is None:
        con.execute(f"create or replace table {work}.cpt_descriptors (code varchar, descriptor varchar)")
        return
    if not path.is_file():
        raise FileNotFoundError(f"CPT descriptor file {path} does not exist")
    con.execute(
        f"create or replace table {work}.cpt_descriptors as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(path)],
    )
    columns = {r[0] for r in con.execute(f"describe {work}.cpt_descriptors").fetchall()}
    if not {"code", "descriptor"} <= columns:
        raise ValueError(f"CPT descriptor file {path} needs columns 'code' and 'descriptor', has {sorted(columns)}")
    con.execute(
        f"create or replace table {work}.cpt_descriptors as "
        f"select upper(trim(code)) as code, any_value(descriptor) as descriptor "
        f"from {work}.cpt_descriptors where code is not null group by 1"
    )


# Integer keys for the values the tables count or group by; (name, columns) of `{name}_keys`. Distinct counts
# and groupings hash these integers instead of strings, several times faster. A NULL value gets no key (a NULL
# key), so it stays uncounted by count(distinct) and stays its own group, as before.
LINE_KEYS = (
    ("claim", ("claim_id",)),
    ("person", ("person_id",)),
    ("npi", ("rendering_npi",)),
    ("code", ("code",)),
    ("payer", ("payer", "payer_type")),
    ("place", ("place_of_service_code",)),
    ("taxonomy", ("taxonomy_code",)),
)


def _build_key_table(
    con: duckdb.DuckDBPyConnection, work: str, name: str, columns: tuple[str, ...], source: str
) -> None:
    cols = ", ".join(columns)
    not_null = " and ".join(f"{c} is not null" for c in columns)
    con.execute(
        f"""
        create or replace table {work}.{name}_keys as
        select {cols}, (row_number() over ())::integer as {name}_key
        from (select distinct {cols} from {source} where {not_null})
        """
    )


def _build_lines(con: duckdb.DuckDBPyConnection, work: str) -> None:
    """The claim lines with a code and a service date, read from staging once (staging may be views), keyed."""
    con.execute(
        f"""
        create or replace table {work}.staged_lines as
        with providers as (
            select npi, min(taxonomy_code) as taxonomy_code from staging.stg_provider group by npi
        )
        select claim_id, claim_line_number, person_id, hcpcs_code as code,
               coalesce(payer, '(unknown)') as payer, coalesce(payer_type, 'other') as payer_type,
               coalesce(place_of_service_code, '(unknown)') as place_of_service_code,
               rendering_npi, coalesce(providers.taxonomy_code, '(unknown)') as taxonomy_code, rendering_tin,
               service_unit_quantity as units, allowed_amount, paid_amount, service_date,
               year(service_date) as year, quarter(service_date) as quarter
        from staging.stg_medical_claim as lines
        left join providers on providers.npi = lines.rendering_npi
        where hcpcs_code is not null and service_date is not null
        """
    )
    for name, columns in LINE_KEYS:
        _build_key_table(con, work, name, columns, f"{work}.staged_lines")
    keys = ", ".join(f"{name}_keys.{name}_key" for name, _ in LINE_KEYS)
    joins = "\n".join(
        f"left join {work}.{name}_keys on "
        + " and ".join(f"{name}_keys.{c} = lines.{c}" for c in columns)
        for name, columns in LINE_KEYS
    )
    con.execute(
        f"""
        create or replace table {work}.code_lines as
        select lines.* exclude (claim_id), {keys}
        from {work}.staged_lines as lines
        {joins}
        """
    )
    con.execute(f"drop table {work}.staged_lines")


def _build_descriptors(con: duckdb.DuckDBPyConnection, work: str) -> None:
    con.execute(
        f"""
        create or replace table {work}.code_descriptors as
        with codes as (
            select distinct code from {work}.code_lines
            union
            select upper(trim(hcpcs_code)) from reference.quality_data_codes
        ),
        typed as (
            select codes.code,
                   (select min_by(s.code_type, s.code_type) from {work}.code_systems as s
                    where regexp_full_match(codes.code, s.pattern)) as code_type
            from codes
        )
        select typed.code, coalesce(typed.code_type, 'other') as code_type,
               qdc.hcpcs_code is not null as is_quality_data_code,
               coalesce(qdc.long_descriptor, case when typed.code_type like 'cpt%' then cpt.descriptor end)
                   as descriptor,
               case when qdc.long_descriptor is not null then qdc.source
                    when typed.code_type like 'cpt%' and cpt.descriptor is not null then 'user-supplied CPT file'
               end as descriptor_source,
               qdc.measure_note, qdc.role_note, qdc.status as qdc_status
        from typed
        left join reference.quality_data_codes as qdc on upper(trim(qdc.hcpcs_code)) = typed.code
        left join {work}.cpt_descriptors as cpt on cpt.code = typed.code
        """
    )


def _period_counts(source: str, dims: tuple[str, ...], aggregates: str) -> str:
    """SQL: `aggregates` of `source` by code key and `dims`, one row per quarter and one per year.

    A claim or a person can span quarters, so a year's distinct counts are counted at year grain (a grouping set
    of its own), never added up from its quarters.
    """
    keys = ", ".join(("code_key", "year", *dims))
    return f"""
        select {keys}, quarter,
               if(grouping(quarter) = 0, 'quarter', 'year') as period_type,
               if(grouping(quarter) = 0, year || '-Q' || quarter, year::varchar) as period,
               {aggregates}
        from {source}
        group by grouping sets (({keys}, quarter), ({keys}))
    """


PERIOD_COLUMNS = "code, period_type, period, year, quarter"
LINE_COUNT_COLUMNS = (
    "count(*) as claim_lines, count(distinct claim_key) as claims, count(distinct person_key) as persons"
)
SHARE_OF_LINES = "round(100.0 * claim_lines / sum(claim_lines) over (partition by code, period_type, period), 2)"


def _decode(work: str, *names: str) -> str:
    """Joins that turn the named integer keys back into their values (a NULL key into NULL values)."""
    return "\n".join(f"left join {work}.{name}_keys using ({name}_key)" for name in names)


def _build_code_tables(con: duckdb.DuckDBPyConnection, work: str) -> None:
    lines = f"{work}.code_lines"
    overview = _period_counts(
        lines, (),
        f"""{LINE_COUNT_COLUMNS}, count(distinct npi_key) as rendering_npis, sum(units) as units,
            sum(allowed_amount) as allowed_amount, sum(paid_amount) as paid_amount,
            min(service_date) as first_service_date, max(service_date) as last_service_date""",
    )
    con.execute(
        f"""
        create or replace table {work}.code_overview as
        select {PERIOD_COLUMNS}, claim_lines, claims, persons, rendering_npis, units, allowed_amount, paid_amount,
               first_service_date, last_service_date
        from ({overview}) {_decode(work, "code")}
        """
    )
    con.execute(
        f"""
        create or replace table {work}.code_catalog as
        with lines as (
            select code, claim_lines, claims, persons, first_service_date, last_service_date
            from (
                select code_key, {LINE_COUNT_COLUMNS},
                       min(service_date) as first_service_date, max(service_date) as last_service_date
                from {lines} group by code_key
            ) {_decode(work, "code")}
        ),
        cases as (
            select qdc_code as code, count(*) as cases_assigned
            from marts.measure_cases where qdc_code is not null group by qdc_code
        )
        select d.code, d.code_type, d.is_quality_data_code, d.descriptor, d.descriptor_source,
               d.measure_note, d.role_note, d.qdc_status,
               coalesce(lines.claim_lines, 0) as claim_lines, coalesce(lines.claims, 0) as claims,
               coalesce(lines.persons, 0) as persons, coalesce(cases.cases_assigned, 0) as cases_assigned,
               lines.first_service_date, lines.last_service_date
        from {work}.code_descriptors as d
        left join lines using (code)
        left join cases using (code)
        """
    )
    payers = _period_counts(
        lines, ("payer_key",),
        f"{LINE_COUNT_COLUMNS}, sum(allowed_amount) as allowed_amount, sum(paid_amount) as paid_amount",
    )
    con.execute(
        f"""
        create or replace table {work}.code_by_payer as
        select {PERIOD_COLUMNS}, payer, payer_type, claim_lines, claims, persons, allowed_amount, paid_amount,
               {SHARE_OF_LINES} as share_of_claim_lines_pct
        from ({payers}) {_decode(work, "code", "payer")}
        """
    )
    con.execute(
        f"""
        create or replace table {work}.code_by_place_of_service as
        select {PERIOD_COLUMNS}, place_of_service_code, claim_lines, claims, persons,
               pos.place_of_service_description, {SHARE_OF_LINES} as share_of_claim_lines_pct
        from ({_period_counts(lines, ("place_key",), LINE_COUNT_COLUMNS)}) {_decode(work, "code", "place")}
        left join reference.place_of_service as pos using (place_of_service_code)
        """
    )
    taxonomies = _period_counts(
        lines, ("taxonomy_key",), f"{LINE_COUNT_COLUMNS}, count(distinct npi_key) as rendering_npis"
    )
    con.execute(
        f"""
        create or replace table {work}.code_by_provider_taxonomy as
        select {PERIOD_COLUMNS}, taxonomy_code, claim_lines, claims, persons, rendering_npis,
               nucc.taxonomy_description, {SHARE_OF_LINES} as share_of_claim_lines_pct
        from ({taxonomies}) {_decode(work, "code", "taxonomy")}
        left join reference.nucc_taxonomy as nucc using (taxonomy_code)
        """
    )
    _build_modifiers(con, work)


def _build_modifiers(con: duckdb.DuckDBPyConnection, work: str) -> None:
    # A line is (claim, line number): one integer for the pair makes its distinct count cheap. A line can carry
    # the same modifier twice (two positions); it still counts once.
    modified_lines = f"""(
        select l.code_key, l.year, l.quarter, l.claim_key, l.person_key, m.modifier,
               l.claim_key::bigint * 4294967296 + (l.claim_line_number::bigint + 2147483648) as line_key
        from {work}.code_lines as l
        join (
            select keys.claim_key, m.claim_line_number, m.modifier
            from staging.stg_claim_modifier as m
            join {work}.claim_keys as keys on keys.claim_id = m.claim_id
        ) as m on m.claim_key = l.claim_key and m.claim_line_number = l.claim_line_number
    )"""
    counts = _period_counts(
        modified_lines, ("modifier",),
        "count(distinct line_key) as claim_lines, count(distinct claim_key) as claims, "
        "count(distinct person_key) as persons",
    )
    con.execute(
        f"""
        create or replace table {work}.code_modifiers as
        with counts as (
            select {PERIOD_COLUMNS}, modifier, claim_lines, claims, persons
            from ({counts}) {_decode(work, "code")}
        ),
        totals as (select code, period_type, period, claim_lines as code_claim_lines from {work}.code_overview)
        select counts.*,
               round(100.0 * counts.claim_lines / totals.code_claim_lines, 2) as share_of_claim_lines_pct,
               coalesce(rules.modifier is not null
                        and not list_contains(string_split(rules.allowed_code_types, ';'), d.code_type), false)
                   as is_invalid,
               case when rules.modifier is not null
                         and not list_contains(string_split(rules.allowed_code_types, ';'), d.code_type)
                    then rules.reason end as invalid_reason
        from counts
        join totals using (code, period_type, period)
        join {work}.code_descriptors as d using (code)
        left join {work}.modifier_rules as rules on rules.modifier = counts.modifier
        """
    )


def _register_icd10_descriptions(con: duckdb.DuckDBPyConnection, work: str) -> None:
    """Descriptions of the diagnosis codes found on the coded claims (the only ones the related table can show)."""
    codes = [r[0] for r in con.execute(f"select diagnosis_code from {work}.diagnosis_keys").fetchall()]
    valid = [icd10.is_valid_item(c) for c in codes]
    table = pa.table(
        {
            "diagnosis_code": pa.array(codes, pa.string()),
            "is_valid_icd10": pa.array(valid, pa.bool_()),
            "diagnosis_description": pa.array(
                [icd10.get_description(c) if ok else None for c, ok in zip(codes, valid)], pa.string()
            ),
        }
    )
    con.register("icd10_lookup_arrow", table)
    con.execute(f"create or replace table {work}.icd10_lookup as select * from icd10_lookup_arrow")
    con.unregister("icd10_lookup_arrow")


def _build_claim_codes(con: duckdb.DuckDBPyConnection, work: str) -> None:
    """What the related tables join on claim keys: each claim's codes with their periods, each claim's diagnoses."""
    con.execute(
        f"""
        create or replace table {work}.code_claims as
        select distinct code_key, claim_key, person_key, year, quarter from {work}.code_lines
        """
    )
    con.execute(
        f"""
        create or replace table {work}.staged_diagnoses as
        select distinct keys.claim_key, dx.diagnosis_code
        from staging.stg_claim_diagnosis as dx
        join {work}.claim_keys as keys on keys.claim_id = dx.claim_id
        """
    )
    _build_key_table(con, work, "diagnosis", ("diagnosis_code",), f"{work}.staged_diagnoses")
    con.execute(
        f"""
        create or replace table {work}.claim_diagnoses as
        select dx.claim_key, keys.diagnosis_key
        from {work}.staged_diagnoses as dx
        left join {work}.diagnosis_keys as keys using (diagnosis_code)
        """
    )
    con.execute(f"drop table {work}.staged_diagnoses")


def _related_table(con: duckdb.DuckDBPyConnection, work: str, table: str, dim: str, pairs: str, top_n: int,
                   decode: str, described: str) -> None:
    """`pairs`: code_claims rows with one related value key each. Keeps the top N related values per code and
    year (ranked on the year row, ties by value), with all quarter rows of the kept ones."""
    counts = _period_counts(
        pairs, (f"{dim}_key",), "count(distinct claim_key) as claims, count(distinct person_key) as persons"
    )
    con.execute(
        f"""
        create or replace table {work}.{table} as
        with counts as (
            select {PERIOD_COLUMNS}, {dim}, claims, persons from ({counts}) {decode}
        ),
        ranked as (
            select *, max(case when period_type = 'year' then claims end)
                          over (partition by code, year, {dim}) as year_claims
            from counts
        ),
        kept as (
            select * exclude (year_claims) from ranked
            qualify dense_rank() over (partition by code, year order by year_claims desc, {dim}) <= {int(top_n)}
        ),
        totals as (select code, period_type, period, claims as code_claims from {work}.code_overview)
        {described}
        """
    )


def _build_related_tables(con: duckdb.DuckDBPyConnection, work: str, top_n: int) -> None:
    _build_claim_codes(con, work)
    _register_icd10_descriptions(con, work)
    share = "round(100.0 * pairs.claims / totals.code_claims, 2) as share_of_claims_pct"
    _related_table(
        con, work, "code_related_diagnoses", "diagnosis_code",
        f"""(select cc.*, dx.diagnosis_key as diagnosis_code_key from {work}.code_claims as cc
             join {work}.claim_diagnoses as dx on dx.claim_key = cc.claim_key)""",
        top_n,
        _decode(work, "code")
        + f"\nleft join {work}.diagnosis_keys on diagnosis_keys.diagnosis_key = diagnosis_code_key",
        f"""
        select pairs.*, lookup.diagnosis_description, coalesce(lookup.is_valid_icd10, false) as is_valid_icd10,
               {share}
        from kept as pairs
        join totals using (code, period_type, period)
        left join {work}.icd10_lookup as lookup using (diagnosis_code)
        """,
    )
    _related_table(
        con, work, "code_related_procedures", "related_code",
        f"""(select cc.*, other.code_key as related_code_key from {work}.code_claims as cc
             join (select distinct claim_key, code_key from {work}.code_lines) as other
               on other.claim_key = cc.claim_key and other.code_key <> cc.code_key)""",
        top_n,
        _decode(work, "code")
        + f"\nleft join (select code as related_code, code_key as related_code_key from {work}.code_keys)"
        " using (related_code_key)",
        f"""
        select pairs.*, d.descriptor as related_descriptor, {share}
        from kept as pairs
        join totals using (code, period_type, period)
        left join {work}.code_descriptors as d on d.code = pairs.related_code
        """,
    )


def _build_measure_performance(con: duckdb.DuckDBPyConnection, work: str) -> None:
    con.execute(
        f"""
        create or replace table {work}.measure_performance as
        with expanded as (
            select cases.measure_id,
                   case when by_stratum then cases.stratum else 'all' end as stratum,
                   cases.performance_year, levels.entity_level,
                   case when levels.entity_level <> 'all' then cases.tin end as tin,
                   case when levels.entity_level = 'tin_npi' then cases.rendering_npi end as rendering_npi,
                   cases.status
            from marts.measure_cases as cases
            cross join (values ('all'), ('tin'), ('tin_npi')) as levels(entity_level)
            cross join (values (true), (false)) as strata(by_stratum)
        ),
        counts as (
            select measure_id, stratum, performance_year, entity_level, tin, rendering_npi,
                   count(*) as cases, count_if(status = 'pending') as pending,
                   count_if(status = 'not_eligible') as not_eligible,
                   count_if(status = 'excluded') as excluded,
                   count_if(status in ('met', 'not_met', 'not_measured')) as eligible_population,
                   count_if(status = 'met') as met, count_if(status = 'not_met') as not_met,
                   count_if(status = 'not_measured') as not_measured
            from expanded group by all
        )
        select *,
               -- spec: not measured stays in the denominator as not met
               round(100.0 * met / nullif(eligible_population, 0), 2)::decimal(5, 2) as performance_rate_pct,
               round(100.0 * (met + not_met) / nullif(eligible_population, 0), 2)::decimal(5, 2)
                   as reporting_rate_pct
        from counts
        """
    )


def _build_follow_up_worklist_counts(con: duckdb.DuckDBPyConnection, work: str) -> None:
    """The follow-up worklist counted per measure, for all TINs and per TIN (marts.follow_up_counts, no
    identifiers), with the share of open cases still missing a score."""
    con.execute(
        f"""
        create or replace table {work}.follow_up_worklist_counts as
        with levels as (
            select counts.measure_id, levels.entity_level,
                   case when levels.entity_level = 'tin' then counts.tin end as tin, counts.as_of_date,
                   counts.open_cases, counts.scored_in_window, counts.not_yet_due, counts.due_now,
                   counts.closing_soon, counts.missed
            from marts.follow_up_counts as counts
            cross join (values ('all'), ('tin')) as levels(entity_level)
        ),
        summed as (
            select measure_id, entity_level, tin, max(as_of_date) as as_of_date,
                   {", ".join(f"sum({c})::bigint as {c}" for c in FOLLOW_UP_COUNTS if c != "open_missing_score")}
            from levels group by measure_id, entity_level, tin
        )
        select measure_id, entity_level, tin, as_of_date, open_cases, scored_in_window,
               not_yet_due + due_now + closing_soon as open_missing_score, not_yet_due, due_now, closing_soon, missed,
               round(100.0 * (not_yet_due + due_now + closing_soon) / nullif(open_cases, 0), 2)::decimal(5, 2)
                   as open_missing_score_pct
        from summed
        """
    )


def build_benchmarks(con: duckdb.DuckDBPyConnection, work: str, published_performance: str, params: Parameters) -> None:
    """Percentiles over entities with enough cases; a percentile equal to a hidden entity rate is hidden too."""
    fractions = "[" + ", ".join(f"{p / 100:.2f}" for p in params.benchmark_percentiles) + "]"
    percentiles = "[" + ", ".join(str(p) for p in params.benchmark_percentiles) + "]"
    con.execute(
        f"""
        create or replace table {work}.measure_benchmarks as
        with entities as (
            select * from {work}.measure_performance
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


def build_benchmark_position(
    con: duckdb.DuckDBPyConnection, work: str, published_performance: str, target: str, params: Parameters
) -> None:
    """Where each entity's overall performance rate falls against CMS's benchmark for its measure, performance
    year and submission method (reference.qpp_benchmarks / qpp_benchmark_deciles), and the achievement points it
    would earn (reference.qpp_scoring_rules); docs/benchmark_position.md has the rules and their sources.

    Decile: the highest decile whose inclusive lower bound the rate reaches (decile 1 from 0; an inverse measure
    mirrors the comparisons). Points: decile 10 earns the maximum; another decile d earns d plus the share of the
    decile's range the rate has covered, truncated to 2 decimals; then the year's floor and, for a benchmark
    topped out by program, its cap. position_status says why a row has no position, in this order: the overall
    algorithm is not computed, CMS publishes no benchmark (position_note gives CMS's reason), fewer than
    benchmark_min_cases eligible cases (no rate shown either), the published rate is suppressed (its decile
    and points would reveal it).
    """
    con.execute(
        f"""
        create or replace table {target} as
        with entities as (
            select measure_id, performance_year, entity_level, tin, rendering_npi, eligible_population,
                   100.0 * met / nullif(eligible_population, 0) as exact_rate
            from {work}.measure_performance
            where entity_level <> 'all' and stratum = 'all' and eligible_population > 0
        ),
        published as (
            select measure_id, performance_year, entity_level, tin, rendering_npi, performance_rate_pct,
                   performance_rate_pct_suppressed
            from {published_performance}
            where entity_level <> 'all' and stratum = 'all'
        ),
        measure_years as (
            select measure_id, performance_year, any_value(metric_type) as metric_type,
                   any_value(overall_algorithm) as overall_algorithm
            from reference.measure_stratum_years
            where not_eligible_reason is null
            group by all
        ),
        benchmarks as (
            select b.*, d.bounds
            from reference.qpp_benchmarks as b
            left join (
                select measure_id, performance_year, submission_method,
                       list(lower_bound order by decile) as bounds
                from reference.qpp_benchmark_deciles group by all
            ) as d using (measure_id, performance_year, submission_method)
            where b.submission_method = $method
        ),
        placed as (
            select e.*, p.performance_rate_pct, p.performance_rate_pct_suppressed, y.overall_algorithm,
                   b.has_benchmark, b.benchmark_year, coalesce(b.is_inverse, false) as is_inverse,
                   coalesce(b.is_topped_out_by_program, false) as is_topped_out_by_program,
                   b.reason_codes, b.reason_descriptions, b.bounds,
                   case when b.bounds is null then null
                        when coalesce(b.is_inverse, false)
                            then 1 + len(list_filter(b.bounds, lambda bound: e.exact_rate <= bound))
                        else 1 + len(list_filter(b.bounds, lambda bound: e.exact_rate >= bound))
                   end as decile,
                   r.minimum_points, r.maximum_points, r.topped_out_by_program_cap
            from entities as e
            join published as p
              on p.measure_id = e.measure_id and p.performance_year = e.performance_year
             and p.entity_level = e.entity_level and p.tin is not distinct from e.tin
             and p.rendering_npi is not distinct from e.rendering_npi
            left join measure_years as y
              on y.measure_id = e.measure_id and y.performance_year = e.performance_year
            left join benchmarks as b
              on b.measure_id = e.measure_id and b.performance_year = e.performance_year
            left join reference.qpp_scoring_rules as r
              on e.performance_year >= r.performance_year_from
             and (r.performance_year_to is null or e.performance_year <= r.performance_year_to)
        ),
        scored as (
            select *,
                   case when is_inverse then coalesce(bounds[decile - 1], 100.0) else coalesce(bounds[decile - 1], 0.0)
                   end as decile_start,
                   bounds[decile] as next_decile_start
            from placed
        ),
        positioned as (
            select *,
                   case
                       when overall_algorithm is not null and overall_algorithm <> 'weightedAverage' then 'not_computed'
                       when not coalesce(has_benchmark, false) then 'no_benchmark'
                       when eligible_population < {int(params.benchmark_min_cases)} then 'below_case_minimum'
                       when performance_rate_pct_suppressed then 'rate_suppressed'
                       else 'positioned'
                   end as position_status,
                   case when decile = 10 then maximum_points
                        else decile + floor(100 * (exact_rate - decile_start) / (next_decile_start - decile_start)) / 100
                   end as raw_points
            from scored
        )
        select measure_id, performance_year, entity_level, tin, rendering_npi,
               $method as submission_method,
               case when position_status in ('positioned', 'rate_suppressed')
                    or (position_status = 'no_benchmark' and eligible_population >= {int(params.benchmark_min_cases)})
                    then performance_rate_pct end as performance_rate_pct,
               (position_status = 'rate_suppressed'
                or (position_status = 'no_benchmark' and eligible_population >= {int(params.benchmark_min_cases)}))
               and performance_rate_pct_suppressed as performance_rate_pct_suppressed,
               case when position_status = 'positioned' then benchmark_year end as benchmark_year,
               case when position_status = 'positioned' then decile end as decile,
               case when position_status = 'positioned' then
                   least(greatest(raw_points, minimum_points),
                         case when is_topped_out_by_program then topped_out_by_program_cap else maximum_points end)
               end::decimal(4, 2) as achievement_points,
               case when has_benchmark
                    then 'CMS benchmark of PY' || performance_year || ' (' || $method || ', benchmark year '
                         || benchmark_year || ')'
                    else coalesce('no CMS benchmark: ' || reason_codes || ' - ' || reason_descriptions,
                                  'no CMS benchmark published for PY' || performance_year || ' (' || $method || ')')
               end as benchmark,
               position_status,
               case position_status
                   when 'below_case_minimum' then 'fewer than {int(params.benchmark_min_cases)} eligible cases'
                   when 'rate_suppressed' then 'the performance rate is suppressed (derived from a count of 1-10)'
                   when 'not_computed' then 'overall algorithm ' || overall_algorithm || ' is not computed'
                   when 'no_benchmark' then 'CMS publishes no benchmark for this measure and year'
               end as position_note
        from positioned
        order by measure_id, performance_year, entity_level, tin, rendering_npi
        """,
        {"method": params.qpp_submission_method},
    )


def _build_reporting_accuracy(con: duckdb.DuckDBPyConnection, work: str) -> None:
    con.execute(
        f"""
        create or replace table {work}.reporting_accuracy as
        with code_sets as (select distinct measure_id, code from {work}.measure_codes),
        cases as (
            select case_id, person_id, measure_id, performance_year, tin, rendering_npi, qdc_code,
                   index_date, coalesce(window_end, episode_end_date) as window_end
            from marts.measure_cases
            where status not in ('pending', 'not_eligible') and qdc_code is not null
        ),
        billed as (
            select distinct l.person_id, l.code, l.service_date, l.rendering_tin, l.rendering_npi
            from {work}.code_lines as l
            where l.code in (select code from code_sets)
        ),
        case_billed as (
            select c.case_id, list(distinct b.code) as codes
            from cases as c
            join code_sets as s on s.measure_id = c.measure_id
            join billed as b
              on b.person_id = c.person_id and b.code = s.code
             and b.service_date between c.index_date and c.window_end
            group by c.case_id
        ),
        case_events as (
            select c.qdc_code as code, c.measure_id, c.performance_year, c.tin, c.rendering_npi,
                   case when cb.codes is null then 'supported_not_billed'
                        when len(cb.codes) = 1 and cb.codes[1] = c.qdc_code then 'agree'
                        else 'conflicting' end as category
            from cases as c
            left join case_billed as cb using (case_id)
        ),
        unsupported_events as (
            select b.code, (select min(s.measure_id) from code_sets as s where s.code = b.code) as measure_id,
                   year(b.service_date) as performance_year, b.rendering_tin as tin, b.rendering_npi,
                   'billed_without_support' as category
            from billed as b
            where not exists (
                select 1 from cases as c join code_sets as s on s.measure_id = c.measure_id and s.code = b.code
                where c.person_id = b.person_id and b.service_date between c.index_date and c.window_end
            )
        ),
        events as (select * from case_events union all select * from unsupported_events),
        expanded as (
            select e.code, e.measure_id, e.performance_year, levels.entity_level,
                   case when levels.entity_level <> 'all' then e.tin end as tin,
                   case when levels.entity_level = 'tin_npi' then e.rendering_npi end as rendering_npi,
                   e.category
            from events as e cross join (values ('all'), ('tin'), ('tin_npi')) as levels(entity_level)
        )
        select code, measure_id, performance_year, entity_level, tin, rendering_npi,
               count_if(category <> 'billed_without_support') as supported_cases,
               count_if(category = 'agree') as agree, count_if(category = 'conflicting') as conflicting,
               count_if(category = 'supported_not_billed') as supported_not_billed,
               count_if(category = 'billed_without_support') as billed_without_support,
               round(100.0 * count_if(category = 'agree')
                     / nullif(count_if(category <> 'billed_without_support'), 0), 2)::decimal(5, 2)
                   as agreement_rate_pct
        from expanded group by all
        """
    )


def build_exact_tables(
    con: duckdb.DuckDBPyConnection, work: str, params: Parameters, cpt_descriptors: Path | None
) -> None:
    """Everything except the benchmarks, which need the suppressed performance table."""
    load_cpt_descriptors(con, work, cpt_descriptors)
    _build_lines(con, work)
    _build_descriptors(con, work)
    _build_code_tables(con, work)
    _build_related_tables(con, work, params.related_codes_per_code_year)
    _build_measure_performance(con, work)
    _build_reporting_accuracy(con, work)
    _build_follow_up_worklist_counts(con, work)
