"""The floor's measure 220 (functional status change, low back): episodes, FS scores, exclusions, the open risk
model and the residual codes, in plain DuckDB SQL plus one small OLS fit, written from shared/spec/measures.md.

It is the independent counterpart of the dbt rehab engine (models/intermediate/rehab): it shares the seeds (value
sets, windows, codes, the model's terms) and none of the SQL. Episodes are built differently on purpose: islands of
visits closer than the gap, then rounds of "first qualifying start after the previous end, first discharge code
after that start" (one SQL statement per round, as many rounds as episodes in the busiest island), where dbt walks
a recursive CTE. The model is fitted here, on the floor's own reference episodes (closed, both FS scores, not
excluded), with statsmodels OLS as docs/measures_220.md documents; `coefficients=` applies a given set instead
(the crafted tests, or the pipeline's version for a like-for-like comparison).

Like the 459 part it applies one specification, the seeds' current rows (performance_year_to empty); episodes that
end before the measure's first performance year are `not_eligible`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import statsmodels.api as sm

MEASURE_ID = "220"
STRATUM = "overall"


@dataclass(frozen=True)
class RehabRules:
    first_year: int
    last_year: int | None
    fs_codes: tuple[str, ...]
    predicted_codes: tuple[str, ...]
    min_age: int
    start_codes: tuple[str, ...]
    diagnosis_prefixes: tuple[str, ...]
    gap_days: int
    pending_days: int
    intake_before: int
    intake_after: int
    discharge_after: int
    discharge_code: str
    met_code: str
    not_met_code: str
    not_measured_code: str
    residual_min: str  # a decimal, kept as text
    surgery_codes: tuple[str, ...]
    surgery_years: int
    comorbidity_months: int
    exclusions: tuple[tuple[int, str, tuple[str, ...]], ...]  # (priority, code, diagnosis prefixes)
    comorbidities: tuple[tuple[str, str], ...]  # (category, prefix)
    terms: pd.DataFrame  # the model's terms (risk_model_terms of the measure)


def _rows(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    with (seeds_dir / f"{name}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _current(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if not r.get("performance_year_to")]


def load_rehab_rules(seeds_dir: Path) -> RehabRules:
    params = [r for r in _current(_rows(seeds_dir, "rehab_parameters")) if r["measure_id"] == MEASURE_ID]
    if len(params) != 1:
        raise ValueError(f"rehab_parameters must hold one current row for measure {MEASURE_ID}, found {len(params)}")
    p = params[0]
    measure = next(r for r in _rows(seeds_dir, "measures") if r["measure_id"] == MEASURE_ID)
    instruments = _rows(seeds_dir, "instruments")
    diagnoses = _current(_rows(seeds_dir, "rehab_diagnoses"))
    surgery_sets = set(p["prior_surgery_value_sets"].split("|"))

    def prefixes(value_set: str) -> tuple[str, ...]:
        return tuple(sorted(r["diagnosis_code_prefix"].strip().upper().replace(".", "")
                            for r in diagnoses if r["value_set"] == value_set))

    exclusions = tuple(sorted(
        (int(r["priority"]), r["exclusion_code"].strip().upper(), prefixes(r["diagnosis_value_set"]))
        for r in _current(_rows(seeds_dir, "rehab_exclusions")) if r["measure_id"] == MEASURE_ID
    ))
    terms = pd.DataFrame([r for r in _rows(seeds_dir, "risk_model_terms") if r["measure_id"] == MEASURE_ID])
    return RehabRules(
        first_year=max(int(measure["first_performance_year"]), int(p["performance_year_from"])),
        last_year=int(measure["last_performance_year"]) if measure["last_performance_year"] else None,
        fs_codes=tuple(sorted(r["code"].upper() for r in instruments if r["instrument"] == p["fs_instrument"])),
        predicted_codes=tuple(sorted(r["code"].upper() for r in instruments
                                     if r["instrument"] == p["predicted_change_instrument"])),
        min_age=int(p["minimum_age_years"]),
        start_codes=tuple(sorted(r["hcpcs_code"].strip().upper()
                                 for r in _current(_rows(seeds_dir, "initial_evaluation_codes"))
                                 if r["value_set"] == p["initial_evaluation_value_set"])),
        diagnosis_prefixes=prefixes(p["diagnosis_value_set"]),
        gap_days=int(p["episode_gap_days"]),
        pending_days=int(p["pending_days"]),
        intake_before=int(p["intake_days_before_start"]),
        intake_after=int(p["intake_days_after_start"]),
        discharge_after=int(p["discharge_days_after_end"]),
        discharge_code=p["discharge_code"].strip().upper(),
        met_code=p["code_met"], not_met_code=p["code_not_met"], not_measured_code=p["code_not_measured"],
        residual_min=p["residual_met_min"],
        surgery_codes=tuple(sorted(r["code"].strip().upper()
                                   for r in _current(_rows(seeds_dir, "procedure_value_sets"))
                                   if r["value_set"] in surgery_sets)),
        surgery_years=int(p["prior_surgery_lookback_years"]),
        comorbidity_months=int(p["comorbidity_lookback_months"]),
        exclusions=exclusions,
        comorbidities=tuple((r["category"], r["diagnosis_code_prefix"].strip().upper().replace(".", ""))
                            for r in _rows(seeds_dir, "comorbidity_categories")),
        terms=terms,
    )


def _in(codes) -> str:
    return "(" + ", ".join("'" + c.replace("'", "''") + "'" for c in codes) + ")"


def _prefix_regex(prefixes) -> str:
    """Matches a '|'-joined list of dot-less upper-case codes when one of them starts with one of the prefixes."""
    return "(^|\\|)(" + "|".join(prefixes) + ")" if prefixes else "$^"


# $-parameters are the rules' values (from the seeds), substituted before the statements run.
EPISODE_INPUT_SQL = """
-- sex and payer type of the latest enrollment span: the payer_patterns type of the delivered payer type read with
-- the payer name ("medicare humana" is Medicare Advantage), else the type of the name, else other
create or replace temp table rehab_persons as
with spellings as (
    select distinct lower(trim(payer)) as name, nullif(lower(trim(payer_type)), '') as delivered_type from persons
),
typed as (
    select s.*,
           (select arg_min(p.payer_type, p.priority) from rehab_payer_patterns p
            where regexp_matches(s.delivered_type || ' ' || s.name, p.pattern)) as combined_type,
           (select arg_min(p.payer_type, p.priority) from rehab_payer_patterns p
            where regexp_matches(s.name, p.pattern)) as name_type
    from spellings s
)
select p.person_id, p.birth_date,
       case when lower(trim(p.gender)) in ('male', 'm') then 'male' when lower(trim(p.gender)) in ('female', 'f')
            then 'female' else 'unknown' end as sex,
       coalesce(case when t.delivered_type is not null then t.combined_type end, t.name_type, 'other') as payer_type
from persons p
left join typed t on t.name is not distinct from lower(trim(p.payer))
                 and t.delivered_type is not distinct from nullif(lower(trim(p.payer_type)), '');

-- every line's diagnoses as one '|'-joined string of dot-less upper-case codes: one regex per value set and line
-- (a view: read once for the visits, once for the lines of the persons with an episode)
create or replace temp view rehab_lines as
select person_id, service_date, claim_id, claim_line_number, claim_key, upper(trim(hcpcs_code)) as hcpcs,
       nullif(replace(replace(trim(rendering_tin), '-', ''), ' ', ''), '') as tin,
       nullif(trim(rendering_npi), '') as npi,
       upper(replace(concat_ws('|', $diagnosis_columns), '.', '')) as dx
from claims;

create or replace temp table rehab_visits as
select l.person_id, l.service_date as day, l.claim_id, l.claim_line_number, l.claim_key, l.tin, l.npi, l.has_low_back,
       l.hcpcs = $discharge_code as is_discharge,
       l.has_low_back and l.hcpcs in $start_codes
         and year(l.service_date) - year(p.birth_date)
             - case when strftime(l.service_date, '%m%d') < strftime(p.birth_date, '%m%d') then 1 else 0 end
             >= $min_age as is_start
from (select *, regexp_matches(dx, $low_back) as has_low_back from rehab_lines) l
left join rehab_persons p using (person_id)
where l.has_low_back or l.hcpcs = $discharge_code;

-- islands: visit days of a person closer than the gap (a gap of exactly gap_days keeps the island)
create or replace temp table rehab_days as
select *, sum(new_island) over (partition by person_id order by day rows unbounded preceding) as island
from (
    select person_id, day, bool_or(is_start) as is_start, bool_or(is_discharge) as is_discharge,
           case when day - lag(day) over (partition by person_id order by day) <= $gap_days then 0 else 1 end
               as new_island
    from rehab_visits group by person_id, day
);

create or replace temp table rehab_islands as
select person_id, island, min(day) as first_day, max(day) as last_day,
       $as_of - max(day) <= $pending_days as is_open
from rehab_days group by all;

create or replace temp table rehab_rounds (round integer, person_id varchar, island bigint, start_date date,
                                           end_date date, discharged boolean);
create or replace temp table rehab_frontier as
select person_id, island, first_day - 1 as after from rehab_islands;
"""

# One round: in every island still to walk, the first qualifying start strictly after the previous episode's end,
# then its end: the first discharge-code day strictly after that start, else the island's last visit.
ROUND_SQL = """
insert into rehab_rounds
with starts as (
    select f.person_id, f.island, min(d.day) as start_date
    from rehab_frontier f join rehab_days d using (person_id, island)
    where d.is_start and d.day > f.after
    group by all
)
select $round, s.person_id, s.island, s.start_date,
       coalesce(min(d.day) filter (where d.is_discharge and d.day > s.start_date), max(d.day)),
       min(d.day) filter (where d.is_discharge and d.day > s.start_date) is not null
from starts s join rehab_days d using (person_id, island)
group by all;

create or replace temp table rehab_frontier as
select person_id, island, end_date as after from rehab_rounds where round = $round and discharged;
"""

EPISODES_SQL = """
create or replace temp table rehab_episodes as
select r.person_id, r.start_date, r.end_date,
       case when r.discharged then 'discharge' when i.is_open and r.end_date = i.last_day then 'open' else 'gap' end
           as end_reason,
       t.tin, t.npi
from rehab_rounds r
join rehab_islands i using (person_id, island)
-- the TIN and NPI of the starting line: a line with a TIN first, then the lowest claim and line number, then
-- claim_key (two sources' lines with the same numbers)
left join (
    select person_id, day, arg_min(tin, (tin is null, claim_id, claim_line_number, claim_key)) as tin,
           arg_min(npi, (tin is null, claim_id, claim_line_number, claim_key)) as npi
    from rehab_visits where is_start group by all
) t on t.person_id = r.person_id and t.day = r.start_date;

create or replace temp table rehab_observations as
select person_id, observation_date as day, code, try_cast(trim(result) as decimal(9,3)) as score
from latest_observations
where code in $fs_codes or code in $predicted_codes;

create or replace temp table rehab_scored as
with intake as (
    select e.person_id, e.start_date, o.day as intake_date, o.score as intake_fs
    from rehab_episodes e
    join rehab_observations o
      on o.person_id = e.person_id and o.code in $fs_codes
     and o.day between e.start_date - $intake_before and e.start_date + $intake_after
    qualify row_number() over (partition by e.person_id, e.start_date order by o.day, o.score desc) = 1
),
discharge as (
    select i.person_id, i.start_date, o.day as discharge_date, o.score as discharge_fs
    from intake i
    join rehab_episodes e using (person_id, start_date)
    join rehab_observations o
      on o.person_id = i.person_id and o.code in $fs_codes
     and o.day > i.intake_date and o.day <= e.end_date + $discharge_after
    qualify row_number() over (partition by i.person_id, i.start_date order by o.day desc, o.score) = 1
),
vendor as (
    select i.person_id, i.start_date, max(o.score) as vendor_predicted
    from intake i
    join rehab_observations o on o.person_id = i.person_id and o.code in $predicted_codes and o.day = i.intake_date
    group by all
)
select e.*, i.intake_date, i.intake_fs, d.discharge_date, d.discharge_fs, d.discharge_fs - i.intake_fs as actual_change,
       v.vendor_predicted
from rehab_episodes e
left join intake i using (person_id, start_date)
left join discharge d using (person_id, start_date)
left join vendor v using (person_id, start_date);

-- the lines of the persons with an episode, their diagnosis codes, one row each, and the exclusion and
-- comorbidity value sets they hit (prefix joins: one equi-join per prefix length)
create or replace temp table rehab_person_lines as
select person_id, service_date, hcpcs, dx
from rehab_lines semi join (select distinct person_id from rehab_episodes) e using (person_id);

create or replace temp table rehab_person_codes as
select person_id, service_date, code
from (select person_id, service_date, unnest(string_split(dx, '|')) as code from rehab_person_lines where dx <> '')
where code <> '';

create or replace temp table rehab_dx_hits as
$prefix_joins;

create or replace temp table rehab_excluded as
with evidence as (
    -- a diagnosis of the exclusion's set dated on or before the episode end
    select e.person_id, e.start_date, r.priority, r.code
    from rehab_episodes e
    join (select person_id, name as code, min(service_date) as first_day
          from rehab_dx_hits where kind = 'exclusion' group by all) h
      on h.person_id = e.person_id and h.first_day <= e.end_date
    join rehab_exclusion_rules r on r.code = h.code
    union all
    -- the exclusion code reported during the episode
    select e.person_id, e.start_date, r.priority, r.code
    from rehab_episodes e
    join (select person_id, service_date, hcpcs from rehab_person_lines where hcpcs in $exclusion_codes) l
      on l.person_id = e.person_id and l.service_date between e.start_date and e.end_date
    join rehab_exclusion_rules r on r.code = l.hcpcs
)
select person_id, start_date, arg_min(code, priority) as exclusion_code from evidence group by all;

create or replace temp table rehab_inputs as
with prior_surgery as (
    select distinct e.person_id, e.start_date
    from rehab_episodes e
    join (select person_id, service_date from rehab_person_lines where hcpcs in $surgery_codes) l
      on l.person_id = e.person_id and l.service_date < e.start_date
     and l.service_date >= cast(e.start_date - to_years($surgery_years) as date)
),
comorbidities as (
    select e.person_id, e.start_date, count(distinct h.name) as comorbidity_count
    from rehab_episodes e
    join rehab_dx_hits h
      on h.kind = 'comorbidity' and h.person_id = e.person_id
     and h.service_date between cast(e.start_date - to_months($comorbidity_months) as date) and e.start_date
    group by all
),
first_low_back as (
    select person_id, min(day) as first_day from rehab_visits where has_low_back group by all
)
select s.*, x.exclusion_code,
       year(s.start_date) - year(p.birth_date)
           - case when strftime(s.start_date, '%m%d') < strftime(p.birth_date, '%m%d') then 1 else 0 end as age_years,
       p.sex, p.payer_type, s.start_date - f.first_day as acuity_days,
       case when ps.person_id is null then 0 else 1 end as prior_lumbar_surgery,
       coalesce(c.comorbidity_count, 0) as comorbidity_count
from rehab_scored s
left join rehab_excluded x using (person_id, start_date)
left join rehab_persons p using (person_id)
left join first_low_back f using (person_id)
left join prior_surgery ps using (person_id, start_date)
left join comorbidities c using (person_id, start_date);
"""

CASES_SQL = """
create or replace temp table rehab_predicted as
select i.person_id, i.start_date,
       coalesce(i.vendor_predicted, cast(round(m.open_predicted, 3) as decimal(9,3))) as predicted_change,
       case when i.vendor_predicted is not null then 'vendor' when m.open_predicted is not null then 'open_model'
       end as predictor
from rehab_inputs i
left join rehab_model_predictions m using (person_id, start_date);

-- scope: a TIN is in scope for a year when one of its episodes ending that year has an intake FS
create or replace temp table rehab_case_outcomes as
with cases as (
    select i.*, p.predicted_change, p.predictor, year(i.end_date) as performance_year,
           i.actual_change - p.predicted_change as residual
    from rehab_inputs i
    join rehab_predicted p using (person_id, start_date)
    semi join (select distinct tin, year(end_date) as performance_year from rehab_inputs where intake_fs is not null)
        scope on scope.tin = i.tin and scope.performance_year = year(i.end_date)
),
classified as (
    select *,
        case
            when performance_year < $first_year or performance_year > $last_year then 'not_eligible'
            when exclusion_code is not null then 'excluded'
            when end_reason = 'open' then 'pending'
            when intake_fs is null or discharge_fs is null then 'not_measured'
            when predicted_change is null then 'pending'
            when residual >= $residual_min then 'met'
            else 'not_met'
        end as status
    from cases
)
select '220' as measure_id, '$stratum' as stratum, person_id, tin, npi as rendering_npi, start_date, end_date,
       end_reason, intake_fs, discharge_fs, actual_change, predicted_change, predictor, residual, status,
       case status when 'excluded' then exclusion_code when 'met' then $met_code when 'not_met' then $not_met_code
                   when 'not_measured' then $not_measured_code end as qdc_code,
       performance_year
from classified;
"""


def _substitute(sql: str, values: dict[str, object]) -> str:
    # longest names first, so $first_year never eats $first_year_x
    for name in sorted(values, key=len, reverse=True):
        sql = sql.replace(f"${name}", str(values[name]))
    return sql


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]) -> None:
    for statement in filter(str.strip, _substitute(sql, values).split(";")):
        con.execute(statement)


def _design(inputs: pd.DataFrame, terms: pd.DataFrame) -> pd.DataFrame:
    """The model's design matrix, one column per term of risk_model_terms (its operators: constant, value, range,
    equals); a missing input counts 0, as a term missing from a version does."""
    columns = {}
    for term in terms.itertuples():
        if term.operator == "constant":
            columns[term.term] = pd.Series(1.0, index=inputs.index)
            continue
        value = inputs[term.input]
        if term.operator == "value":
            column = pd.to_numeric(value, errors="coerce").astype(float)
        elif term.operator == "range":
            number = pd.to_numeric(value, errors="coerce")
            inside = number.notna()
            if term.lower_bound:
                inside &= number >= float(term.lower_bound)
            if term.upper_bound:
                inside &= number <= float(term.upper_bound)
            column = inside.astype(float)
        elif term.operator == "equals":
            column = (value.astype("object") == term.match_value).astype(float)
        else:
            raise ValueError(f"risk_model_terms: unknown operator {term.operator!r} of term {term.term}")
        columns[term.term] = column.fillna(0.0)
    return pd.DataFrame(columns, index=inputs.index)


def fit(inputs: pd.DataFrame, terms: pd.DataFrame) -> pd.Series | None:
    """OLS of the actual change on the terms, over the reference episodes (closed, both scores, not excluded); None
    when they are too few (as the pipeline, which then has no version: such cases stay pending)."""
    reference = inputs[(inputs["end_reason"] != "open") & inputs["actual_change"].notna()
                       & inputs["exclusion_code"].isna()]
    if len(reference) <= len(terms):
        return None
    design = _design(reference, terms)
    return sm.OLS(reference["actual_change"].astype(float), design).fit().params


def compute_220(con: duckdb.DuckDBPyConnection, rules: RehabRules, as_of: str, diagnosis_columns: list[str],
                payer_patterns: Path, coefficients: dict[str, float] | None = None) -> dict:
    """measure 220 on the floor's `claims`, `persons` (latest span: birth_date, gender, payer, payer_type) and
    `latest_observations` tables: the case table, the coefficients applied and whether they were fitted here."""
    con.execute("create or replace temp table rehab_payer_patterns as "
                "select pattern, payer_type, cast(priority as integer) as priority "
                "from read_csv(?, all_varchar = true)", [str(payer_patterns)])
    values = {
        "diagnosis_columns": ", ".join(f"trim({c})" for c in diagnosis_columns), "as_of": f"date '{as_of}'",
        "low_back": f"'{_prefix_regex(rules.diagnosis_prefixes)}'", "discharge_code": f"'{rules.discharge_code}'",
        "start_codes": _in(rules.start_codes), "min_age": rules.min_age, "gap_days": rules.gap_days,
        "pending_days": rules.pending_days, "fs_codes": _in(rules.fs_codes),
        "predicted_codes": _in(rules.predicted_codes), "intake_before": rules.intake_before,
        "intake_after": rules.intake_after, "discharge_after": rules.discharge_after,
        "surgery_codes": _in(rules.surgery_codes), "surgery_years": rules.surgery_years,
        "comorbidity_months": rules.comorbidity_months, "first_year": rules.first_year,
        "last_year": rules.last_year or 9999, "residual_min": f"cast('{rules.residual_min}' as decimal(9,3))",
        "met_code": f"'{rules.met_code}'", "not_met_code": f"'{rules.not_met_code}'",
        "not_measured_code": f"'{rules.not_measured_code}'", "stratum": STRATUM,
    }
    dx_rules = pd.DataFrame(
        [{"kind": "exclusion", "name": c, "prefix": x} for _, c, dx in rules.exclusions for x in dx]
        + [{"kind": "comorbidity", "name": c, "prefix": x} for c, x in rules.comorbidities],
        columns=["kind", "name", "prefix"])
    lengths = sorted({len(x) for x in dx_rules["prefix"]}) or [1]
    values["prefix_joins"] = " union all ".join(
        f"select c.person_id, c.service_date, r.kind, r.name from rehab_person_codes c join rehab_dx_rules r "
        f"on length(r.prefix) = {n} and left(c.code, {n}) = r.prefix" for n in lengths)
    values["exclusion_codes"] = _in([c for _, c, _ in rules.exclusions])
    exclusion_rules = pd.DataFrame(
        [{"priority": p, "code": c} for p, c, _ in rules.exclusions], columns=["priority", "code"])
    for name, frame in (("rehab_exclusion_rules", exclusion_rules), ("rehab_dx_rules", dx_rules)):
        con.register(f"{name}_df", frame)
        con.execute(f"create or replace temp table {name} as select * from {name}_df")
    _run(con, EPISODE_INPUT_SQL, values)
    rounds = 0
    while con.execute("select count(*) from rehab_frontier").fetchone()[0]:
        rounds += 1
        _run(con, ROUND_SQL, {**values, "round": rounds})
    _run(con, EPISODES_SQL, values)
    inputs = con.execute("select * from rehab_inputs").df()
    params = fit(inputs, rules.terms) if coefficients is None else pd.Series(coefficients, dtype=float)
    design = _design(inputs, rules.terms)
    if params is None:
        open_predicted = pd.Series(float("nan"), index=inputs.index)
    else:  # a term missing from the coefficients counts 0
        open_predicted = design.mul(params.reindex(design.columns).fillna(0.0), axis=1).sum(axis=1)
    predictions = pd.DataFrame({"person_id": inputs["person_id"], "start_date": inputs["start_date"],
                                "open_predicted": open_predicted})
    con.register("rehab_model_predictions_df", predictions)
    con.execute("create or replace temp table rehab_model_predictions as select * from rehab_model_predictions_df")
    _run(con, CASES_SQL, values)
    cases = con.execute("select * from rehab_case_outcomes order by tin, performance_year, person_id, start_date").df()
    return {"cases": cases, "coefficients": {} if params is None else params.to_dict(),
            "fitted": coefficients is None and params is not None, "episode_rounds": rounds,
            "episodes": len(inputs)}


def summarize_220(cases: pd.DataFrame) -> dict[tuple[str, int, str, str], int]:
    """Cases by TIN, performance year, status and code (pending and not_eligible have no code: '')."""
    if cases.empty:
        return {}
    keys = cases[["tin", "performance_year", "status", "qdc_code"]].astype("object").fillna("")
    return {(str(t), int(y), str(s), str(c)): int(n) for (t, y, s, c), n in keys.value_counts().items()}
