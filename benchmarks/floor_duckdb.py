"""The floor: measures 459 and 220 and the per-code counts and breakdowns in plain DuckDB (no dbt, no Dagster).

It reads the same landing files as the pipeline, skips the rows the raw-data contract would quarantine, and
computes the cases with its own SQL from the shared seeds (measure 220's episodes, scores and
risk model: floor_rehab.py). The pipeline is benchmarked against its time; its
results cross-check the dbt models. Usage: python benchmarks/floor_duckdb.py LANDING_DIR AS_OF_DATE
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_common import (  # noqa: E402
    CODE_SHAPES,
    ISO_DATE,
    Measure459Rules,
    aliases,
    delivery_key,
    landing_files,
    load_rules,
    summarize,
)
from benchmarks.floor_rehab import compute_220, load_rehab_rules, summarize_220  # noqa: E402
from orchestration.contract import CONTRACTS, ERROR, MAX_DIAGNOSES, MAX_MODIFIERS  # noqa: E402
from orchestration.settings import SEEDS_DIR  # noqa: E402

DIAGNOSIS_COLUMNS = [f"diagnosis_code_{i}" for i in range(1, MAX_DIAGNOSES + 1)]
DEFAULT_MEMORY_LIMIT = "8GB"
MODIFIER_COLUMNS = [f"hcpcs_modifier_{i}" for i in range(1, MAX_MODIFIERS + 1)]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed(expr: str, type_: str) -> str:
    if type_ == "DATE":
        # ISO dates; a time part is tolerated and dropped
        return f"case when regexp_full_match(trim({expr}), '{ISO_DATE}') then try_cast(left(trim({expr}), 10) as date) end"
    if type_ == "VARCHAR":
        return expr
    return f"try_cast(trim({expr}) as {type_})"


def _load_table(con: duckdb.DuckDBPyConnection, table: str, landing_dir: Path, with_instruments: bool) -> None:
    """`<table>` = the contract's columns, typed, of the rows the contract accepts, plus delivery order."""
    contract = CONTRACTS[table]
    files = landing_files(landing_dir, table)
    delivered = pd.DataFrame(
        {"filename": [str(f) for f in files], "delivery": [delivery_key(f) for f in files],
         "file_order": list(range(len(files)))},
        columns=["filename", "delivery", "file_order"],
    ).astype({"filename": "object", "delivery": "object", "file_order": "int64"})
    con.register("delivered_df", delivered)
    con.execute("create or replace temp table delivered_files as select * from delivered_df")
    if files:
        con.execute(
            "create or replace temp table src as select * from read_csv(?, all_varchar = true, "
            "header = true, union_by_name = true, filename = true, ignore_errors = true, delim = ',', quote = '\"')",
            [[str(f) for f in files]],
        )
    else:
        con.execute("create or replace temp table src (filename varchar)")
    present = {r[0] for r in con.execute("select column_name from (describe src)").fetchall()}
    alias_map = aliases(table)
    raw_of = {}
    for col in contract.columns:
        sources = [n for n in (col.name, *alias_map.get(col.name, ())) if n in present]
        raw_of[col.name] = (f"coalesce({', '.join('src.' + _quote(s) for s in sources)})" if sources
                            else "cast(null as varchar)")
    filled = {name: f"coalesce(trim({raw}), '') <> ''" for name, raw in raw_of.items()}
    # ICD-9 rows of older Tuva deliveries are exempt from the ICD-10 shape
    icd9 = f"coalesce(lower(trim({raw_of['diagnosis_code_type']})), '') like 'icd-9%'" if table == "medical_claim" \
        else "false"
    # the contract's severity per column: an error drops the row, a malformed value at warn loads as null
    selects, checks = [], []
    for col in contract.columns:
        raw = raw_of[col.name]
        alone = f"not ({filled[col.stands_in_for]})" if col.stands_in_for else "true"
        if col.if_empty == ERROR:
            checks.append(f"(not ({alone}) or {filled[col.name]})")
        typed, valid = _typed(raw, col.type), None
        if col.type != "VARCHAR":
            valid = f"{typed} is not null"
        elif col.code_shape:
            shape = CODE_SHAPES[col.code_shape][0]
            valid = f"regexp_full_match(trim({raw}), '{shape}')" + (f" or {icd9}" if col.code_shape == "icd10" else "")
            typed = f"case when {valid} then {raw} end"
        if valid is not None and col.if_malformed == ERROR:
            checks.append(f"(not ({alone}) or not ({filled[col.name]}) or {valid})")
        selects.append(f"{typed} as {_quote(col.name)}")
    join = ""
    if with_instruments:
        code = f"upper(trim(coalesce(nullif(trim({raw_of['normalized_code']}), ''), {raw_of['source_code']})))"
        join = f"left join instruments i on {code} = upper(i.code)"
        checks.append(f"(i.code is null or not ({filled['result']}) or try_cast(trim({raw_of['result']}) "
                      "as decimal(9,3)) between i.min_score and i.max_score)")
    con.execute(
        f"""
        create or replace temp table {table} as
        select {', '.join(selects)}, f.delivery, f.file_order, src.rowid as row_order
        from src join delivered_files f using (filename)
        {join}
        where {' and '.join(checks)}
        """
    )
    con.execute("drop table src")


def _load_parameters(con: duckdb.DuckDBPyConnection, rules: Measure459Rules) -> None:
    con.register("instruments_df", rules.instruments)
    con.execute("create or replace temp table instruments as select * from instruments_df")
    strata = pd.DataFrame(
        [
            {
                "stratum": r.stratum, "precedence": r.priority,
                "pre_months": r.pre_window_months,
                "ws_n": r.window_start.n, "ws_unit": r.window_start.unit,
                "we_n": r.window_end.n, "we_unit": r.window_end.unit,
                "nominal_n": r.nominal.n, "nominal_unit": r.nominal.unit,
                "post_max": str(r.post_max_met), "improvement_min": str(r.improvement_min_met),
                "met_code": r.met_code, "not_met_code": r.not_met_code,
                "not_measured_code": r.not_measured_code, "excluded_code": r.excluded_code,
                "min_age": r.min_age, "lookback_months": r.exclusion_lookback_months,
            }
            for r in rules.strata.values()
        ]
    )
    codes = pd.DataFrame(
        [{"code": c, "stratum": r.stratum} for r in rules.strata.values() for c in sorted(r.procedure_codes)]
    )
    exclusions = pd.DataFrame({"diagnosis_code": sorted(rules.exclusion_diagnoses)})
    for name, frame in (("strata_df", strata), ("codes_df", codes), ("exclusions_df", exclusions)):
        con.register(name, frame)
    con.execute(
        """
        create or replace temp table strata as
        select * replace (cast(post_max as decimal(9,3)) as post_max,
                          cast(improvement_min as decimal(9,3)) as improvement_min)
        from strata_df;
        create or replace temp table procedure_codes as select * from codes_df;
        create or replace temp table exclusion_diagnoses as select * from exclusions_df;
        create or replace temp macro add_offset(d, n, unit) as
            case when unit = 'month' then cast(d + to_months(n) as date) else cast(d + to_days(n) as date) end;
        """
    )
    instrument_codes = pd.DataFrame({"code": rules.instrument_codes})
    con.register("pain_codes_df", instrument_codes)
    con.execute("create or replace temp table pain_codes as select * from pain_codes_df")


CASES_SQL = """
create or replace temp table claims as
-- row_order grows with delivery order (files are read oldest first), so the latest version has the highest:
-- deciding on the keys alone avoids sorting the wide rows. A line is claim_id + claim_line_number + data_source
-- (Tuva's grain, an empty data_source one source of its own), a claim data_source + claim_id (claim_key, as
-- docs/data_contract.md spells it)
select c.*, coalesce(c.claim_line_start_date, c.claim_start_date) as service_date,
       (case when nullif(c.data_source, '') is null then '|' else length(nullif(c.data_source, ''))::varchar || ':' || nullif(c.data_source, '') || '|' end || c.claim_id) as claim_key
from medical_claim c
semi join (select max(row_order) as row_order from medical_claim
           group by claim_id, claim_line_number, nullif(data_source, '')) latest
    using (row_order)
where coalesce(c.claim_line_start_date, c.claim_start_date) <= $as_of;

create or replace temp table persons as
select person_id, birth_date, gender, payer, payer_type
from (
    select person_id, birth_date, gender, payer, payer_type, enrollment_start_date, enrollment_end_date
    from eligibility
    where enrollment_start_date is null or enrollment_start_date <= $as_of
    qualify row_number() over (partition by person_id, enrollment_start_date, payer, plan
                               order by file_order desc, row_order desc) = 1
)
qualify row_number() over (partition by person_id
                           order by enrollment_start_date desc nulls last, enrollment_end_date desc nulls last,
                                    birth_date desc nulls last) = 1;

-- a re-delivered observation_id keeps its latest version (both measures read this)
create or replace temp table latest_observations as
select person_id, observation_date, upper(trim(coalesce(nullif(trim(normalized_code), ''), source_code))) as code,
       result
from observation
where observation_date <= $as_of
qualify observation_id is null
     or row_number() over (partition by observation_id order by file_order desc, row_order desc) = 1;

create or replace temp table pain_scores as
select person_id, observation_date, try_cast(trim(result) as decimal(9,3)) as score
from latest_observations
where code in (select code from pain_codes);

create or replace temp table cases as
with procedure_days as (
    select c.person_id, c.service_date as index_date, arg_min(s.stratum, s.precedence) as stratum
    from claims c
    join procedure_codes p on upper(trim(c.hcpcs_code)) = p.code
    join strata s on s.stratum = p.stratum
    group by all
)
select d.person_id, d.stratum, d.index_date, s.*,
       add_offset(d.index_date, s.ws_n, s.ws_unit) as window_start,
       add_offset(d.index_date, s.we_n, s.we_unit) as window_end,
       add_offset(d.index_date, s.nominal_n, s.nominal_unit) as nominal_date,
       add_offset(d.index_date, -s.pre_months, 'month') as pre_window_start,
       add_offset(d.index_date, -s.lookback_months, 'month') as lookback_start
from procedure_days d
join strata s using (stratum)
join persons p using (person_id)
where p.birth_date is not null
  and year(d.index_date) - year(p.birth_date)
      - case when strftime(d.index_date, '%m%d') < strftime(p.birth_date, '%m%d') then 1 else 0 end >= s.min_age;

create or replace temp table case_diagnoses as
select person_id, service_date, upper(replace(trim(diagnosis_code), '.', '')) as diagnosis_code
from (
    unpivot (select person_id, service_date, {diagnosis_columns} from claims
             where person_id in (select person_id from cases))
    on {diagnosis_columns} into name position value diagnosis_code
);

create or replace temp table excluded as
select distinct k.person_id, k.stratum, k.index_date
from cases k
join case_diagnoses d
  on d.person_id = k.person_id and d.service_date between k.lookback_start and k.index_date
join exclusion_diagnoses x on x.diagnosis_code = d.diagnosis_code
union
select distinct k.person_id, k.stratum, k.index_date
from cases k
join claims c
  on c.person_id = k.person_id and upper(trim(c.hcpcs_code)) = k.excluded_code
 and c.service_date between k.index_date and k.window_end;

create or replace temp table pre_scores as
select k.person_id, k.stratum, k.index_date, p.score as pre_score, p.observation_date as pre_score_date
from cases k
join pain_scores p on p.person_id = k.person_id and p.observation_date between k.pre_window_start and k.index_date
qualify row_number() over (partition by k.person_id, k.stratum, k.index_date
                           order by p.observation_date desc, p.score asc) = 1;

create or replace temp table post_scores as
select k.person_id, k.stratum, k.index_date, p.score as post_score, p.observation_date as post_score_date
from cases k
join pain_scores p on p.person_id = k.person_id and p.observation_date between k.window_start and k.window_end
qualify row_number() over (partition by k.person_id, k.stratum, k.index_date
                           order by abs(date_diff('day', k.nominal_date, p.observation_date)),
                                    p.observation_date desc, p.score desc) = 1;

create or replace temp table case_outcomes as
with joined as (
    select k.*, pre.pre_score, pre.pre_score_date, post.post_score, post.post_score_date,
           pre.pre_score - post.post_score as improvement,
           x.person_id is not null as is_excluded
    from cases k
    left join pre_scores pre using (person_id, stratum, index_date)
    left join post_scores post using (person_id, stratum, index_date)
    left join excluded x using (person_id, stratum, index_date)
),
classified as (
    select *,
        case
            when is_excluded then 'excluded'
            when post_score is null and $as_of < window_end then 'pending'
            when post_score is null then 'not_measured'
            when post_score <= post_max then 'met'
            when improvement >= improvement_min then 'met'
            else 'not_met'
        end as status
    from joined
)
select '459' as measure_id, person_id, stratum, index_date, window_start, window_end,
       pre_score, pre_score_date, post_score, post_score_date, improvement, status,
       case status when 'excluded' then excluded_code when 'met' then met_code when 'not_met' then not_met_code
                   when 'not_measured' then not_measured_code end as qdc_code,
       year(window_end) as performance_year
from classified;
"""

BY_PAYER_SQL = """
select upper(trim(c.hcpcs_code)) as hcpcs_code,
       coalesce(n.payer, nullif(trim(c.payer), '')) as payer,
       year(c.service_date) as year,
       count(*) as claim_lines
from claims c
left join payer_names n on lower(trim(c.payer)) = n.spelling
group by all
"""


# The per-code counts and breakdowns the publication computes (orchestration/publish/tables.py): per code, year and
# quarter (and per code and year), the claim lines, claims and persons overall and by payer, place of service,
# rendering provider's taxonomy and modifier, and the diagnoses and other procedures on the same claims (top 25 per
# code and year). Suppression, descriptions and files are the publication's own and not redone here. Claims, lines,
# persons and NPIs are counted by 64-bit hashes of their ids (as the publication counts integer keys).
COUNTS_SQL = """
create or replace temp table code_lines as
select upper(trim(c.hcpcs_code)) as code, hash(c.claim_key) as claim_id, hash(c.claim_key, c.claim_line_number) as line_id,
       hash(c.person_id) as person_id,
       coalesce(n.payer, nullif(trim(c.payer), ''), '(unknown)') as payer,
       coalesce(nullif(trim(c.place_of_service_code), ''), '(unknown)') as place_of_service_code,
       coalesce(t.taxonomy_code, '(unknown)') as taxonomy_code,
       hash(nullif(trim(c.rendering_npi), '')) as npi_id, c.service_unit_quantity as units, c.allowed_amount,
       c.paid_amount,
       year(c.service_date) as year, quarter(c.service_date) as quarter,
       [{modifier_columns}] as modifiers
from claims c
left join payer_names n on lower(trim(c.payer)) = n.spelling
left join (select trim(npi) as npi, min(trim(primary_taxonomy_code)) as taxonomy_code from provider group by all) t
    on t.npi = nullif(trim(c.rendering_npi), '')
where nullif(trim(c.hcpcs_code), '') is not null and c.service_date is not null;

create or replace temp table code_overview as
select code, year, quarter, count(*) as claim_lines, count(distinct claim_id) as claims,
       count(distinct person_id) as persons, count(distinct npi_id) as rendering_npis, sum(units) as units,
       sum(allowed_amount) as allowed_amount, sum(paid_amount) as paid_amount
from code_lines group by grouping sets ((code, year, quarter), (code, year), (code));

create or replace temp table code_by_dimension as
select dimension, value, code, year, quarter, count(*) as claim_lines, count(distinct claim_id) as claims,
       count(distinct person_id) as persons
from (
    select 'payer' as dimension, payer as value, * from code_lines
    union all select 'place_of_service', place_of_service_code, * from code_lines
    union all select 'taxonomy', taxonomy_code, * from code_lines
)
group by grouping sets ((dimension, value, code, year, quarter), (dimension, value, code, year));

create or replace temp table code_modifiers as
select modifier, code, year, quarter, count(distinct line_id) as claim_lines,
       count(distinct claim_id) as claims, count(distinct person_id) as persons
from (select code, claim_id, line_id, person_id, year, quarter, upper(trim(unnest(modifiers))) as modifier
      from code_lines)
where coalesce(modifier, '') <> ''
group by grouping sets ((modifier, code, year, quarter), (modifier, code, year));

create or replace temp table code_claims as
select distinct code, claim_id, person_id, year, quarter from code_lines;

create or replace temp table claim_diagnoses as
select distinct claim_id, diagnosis_code
from (select hash(claim_key) as claim_id, upper(replace(trim(unnest([{diagnosis_columns}])), '.', '')) as diagnosis_code
      from claims)
where coalesce(diagnosis_code, '') <> '';

create or replace temp table code_related as
with pairs as (
    select 'diagnosis' as kind, cc.code, cc.year, cc.quarter, cc.claim_id, cc.person_id, dx.diagnosis_code as related
    from code_claims cc join claim_diagnoses dx using (claim_id)
    union all
    select 'procedure', cc.code, cc.year, cc.quarter, cc.claim_id, cc.person_id, other.code
    from code_claims cc
    join (select distinct claim_id, code from code_lines) other on other.claim_id = cc.claim_id and other.code <> cc.code
),
counts as (
    select kind, code, year, quarter, related, count(distinct claim_id) as claims,
           count(distinct person_id) as persons
    from pairs group by grouping sets ((kind, code, year, quarter, related), (kind, code, year, related))
),
ranked as (
    select *, max(case when quarter is null then claims end) over (partition by kind, code, year, related)
                  as year_claims
    from counts
)
select * exclude (year_claims) from ranked
qualify dense_rank() over (partition by kind, code, year order by year_claims desc, related) <= 25;
"""


def compute(landing_dir: Path | str, as_of_date: date | str, seeds_dir: Path = SEEDS_DIR,
            memory_limit: str | None = None, coefficients_220: dict[str, float] | None = None) -> dict:
    """Summary counts, the case tables of both measures and the code-by-payer table, with the seconds of each phase.
    Measure 220's open risk model is fitted on the floor's own episodes unless `coefficients_220` (term ->
    coefficient) is given."""
    landing_dir = Path(landing_dir)
    as_of = date.fromisoformat(str(as_of_date))
    rules = load_rules(seeds_dir)
    rehab_rules = load_rehab_rules(seeds_dir)
    con = duckdb.connect()
    # the pipeline's warehouse runs under DUCKDB_MEMORY_LIMIT; the floor gets the same kind of bound (and spills)
    con.execute(f"set memory_limit = '{memory_limit or DEFAULT_MEMORY_LIMIT}'")
    con.execute(f"set temp_directory = '{tempfile.gettempdir()}/floor_duckdb_spill'")
    timings = {}
    started = time.perf_counter()
    _load_parameters(con, rules)
    for table in ("medical_claim", "eligibility", "observation", "provider"):
        _load_table(con, table, landing_dir, with_instruments=(table == "observation"))
    payers = seeds_dir / "payer_patterns.csv"
    if payers.exists():
        # the first pattern by priority that each distinct spelling contains (dbt: stg_payer_spellings)
        con.execute("""create temp table payer_names as
                       select spelling, arg_min(p.payer, p.priority::integer) as payer
                       from (select distinct lower(trim(payer)) as spelling from medical_claim) s
                       join read_csv(?, all_varchar = true) p on regexp_matches(s.spelling, p.pattern)
                       group by spelling""", [str(payers)])
    else:
        con.execute("create temp table payer_names (spelling varchar, payer varchar)")
    timings["load"] = time.perf_counter() - started
    started = time.perf_counter()
    sql = CASES_SQL.replace("{diagnosis_columns}", ", ".join(DIAGNOSIS_COLUMNS))
    for statement in filter(str.strip, sql.split(";")):
        con.execute(statement.replace("$as_of", f"date '{as_of.isoformat()}'"))
    cases = con.execute("select * from case_outcomes order by stratum, index_date, person_id").df()
    timings["measure_459"] = time.perf_counter() - started
    started = time.perf_counter()
    rehab = compute_220(con, rehab_rules, as_of.isoformat(), DIAGNOSIS_COLUMNS, seeds_dir / "payer_patterns.csv",
                        coefficients_220)
    timings["measure_220"] = time.perf_counter() - started
    started = time.perf_counter()
    by_payer = con.execute(BY_PAYER_SQL).df()
    sql = (COUNTS_SQL.replace("{diagnosis_columns}", ", ".join(DIAGNOSIS_COLUMNS))
           .replace("{modifier_columns}", ", ".join(MODIFIER_COLUMNS)))
    for statement in filter(str.strip, sql.split(";")):
        con.execute(statement)
    breakdown_rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                      for t in ("code_overview", "code_by_dimension", "code_modifiers", "code_related")}
    timings["code_counts"] = time.perf_counter() - started
    claim_lines = con.execute("select count(*) from claims").fetchone()[0]
    con.close()
    return {
        "summary": summarize(cases),
        "cases": cases,
        "summary_220": summarize_220(rehab["cases"]),
        "cases_220": rehab["cases"],
        "coefficients_220": rehab["coefficients"],
        "risk_model_fitted": rehab["fitted"],
        "by_payer": by_payer,
        "claim_lines": claim_lines,
        "breakdown_rows": breakdown_rows,
        "seconds": timings,
    }


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(__doc__.splitlines()[-1], file=sys.stderr)
        return 2
    result = compute(Path(args[0]), args[1])
    for key, n in sorted(result["summary"].items()):
        print(" ".join(key), n)
    by_code: dict[tuple[str, str], int] = {}
    for (_, _, status, code), n in result["summary_220"].items():
        by_code[(status, code)] = by_code.get((status, code), 0) + n
    for (status, code), n in sorted(by_code.items()):
        print("220 overall", status, code, n)
    print({k: round(v, 2) for k, v in result["seconds"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
