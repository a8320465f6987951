"""An independent reference implementation of measures 459/461/471 (both strata) and 220, written from
shared/spec/measures.md and CMS's measure data (shared/reference/qpp/measures.json), in plain DuckDB SQL over the
raw Tuva-format tables (raw.medical_claim, raw.eligibility, raw.observation). It shares no model, macro or seed with
dbt_project: it is the oracle of tests/test_differential_measures.py, so its numbers are written here, from the spec.

Where the spec is silent the reference follows the project's documented choice (docs/measures.md,
docs/measures_220.md, docs/measures_review.md, docs/data_contract.md); each is marked "project choice" below.
The open risk model's coefficients are the pipeline's (risk_model.coefficients, latest version): the audit is of
the case logic, not of the fit, so the test writes a version whose terms this reference can apply (intercept and
intake FS only; a term absent from a version counts 0, docs/measures_220.md).

Output of `reference_cases`: one row per case - person_id, measure_id, stratum, index_date, episode_end_date (220),
window_end (follow-up window end; 220: episode end), outcome (the quality-data code, else `pending` /
`not_eligible`), performance_year, tin, rendering_npi, pre_score, pre_score_date, post_score, post_score_date, residual (220).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

CMS_MEASURES = Path("/work/shared/reference/qpp/measures.json")

DECOMPRESSION = ("63005", "63012", "63017", "63030", "63035", "63042", "63044", "63047", "63048", "63056", "63057")
FUSION = ("22533", "22534", "22558", "22612", "22614", "22630", "22632", "22633", "22634")

# measure -> instrument codes, post-op maximum for met, improvement minimum, codes per stratum (met, not met,
# not measured); G9945 excludes all three (project choice: the code table lists it for "459 (and lumbar siblings)").
PAIRS = {
    "459": (("72514-3", "38214-3"), "3.0", "5.0",
            {"lumbarDiscectomy": ("G2136", "G2137", "G9943"), "lumbarFusion": ("G2138", "G2139", "G9946")}),
    # project choice: leg pain has no LOINC code of its own, the project's local code LEG-PAIN-NRS
    "461": (("LEG-PAIN-NRS",), "3.0", "5.0",
            {"lumbarDiscectomy": ("G2140", "G2141", "G9949"), "lumbarFusion": ("G2146", "G2147", "M1052")}),
    "471": (("97909-6",), "22", "30",
            {"lumbarDiscectomy": ("G2144", "G2145", "M1049"), "lumbarFusion": ("G2142", "G2143", "M1043")}),
}
EXCLUDED_CODE = "G9945"

# The G9945 descriptor read as ICD-10-CM (project choice, docs/measures.md "Exclusion value set"): lumbar or
# lumbosacral subcategories only; acute fractures are initial encounters (7th character A or B). Codes compared
# upper case without dots.
EXCLUSION_DX_REGEX = (
    "^(C412|C7951|C720|C721|C701"
    "|S320.{2}[AB]|M4856XA|M4857XA"
    "|M462[67]|M463[67]|M464[67]|M465[67]"
    "|M410[67]|M4111[67]|M4112[67]|M412[67]|M414[67]|M415[67]|M418[67]|Q763|Q675).*$"
)

# Measure 220. The low back value set: the spec's list, M51.2x/M51.3x read as lumbar and lumbosacral (project
# choice, docs/measures_220.md), as code prefixes.
LOW_BACK_PREFIXES = ("M545", "M5126", "M5127", "M5136", "M5137", "M4726", "M47816", "M47817", "M4806", "M5416",
                     "M5417", "M543", "M544", "S335XXA", "S39012A", "M4306", "M4316")
INITIAL_EVALUATION = ("97161", "97162", "97163", "97165", "97166", "97167", "99202", "99203", "99204", "99205",
                      "99212", "99213", "99214", "99215", "98940", "98941", "98942", "98943", "99304", "99305",
                      "99306", "M1121")
DEGENERATIVE_PREFIXES = ("G1221", "G35", "G20")  # ALS, MS, Parkinson's
FS_CODE, PREDICTED_CODE = "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED"  # project choice: local codes (no LOINC)
INSTRUMENT_CODES = tuple(code for instruments, *_ in PAIRS.values() for code in instruments) + (FS_CODE, PREDICTED_CODE)
CODES_220 = {"met": "G8659", "not_met": "G8660", "not_measured": "G8662", "degenerative": "M1122",
             "unable": "G9733", "discharge": "M1012"}


def cms_computed_strata() -> list[tuple[str, int, str, str, str | None]]:
    """(measure, performance year, stratum, metric type, CMS's stratum name) that CMS's data defines with a rate: a
    single-rate year of 459/461/471 is the discectomy/laminectomy stratum only (CMS's PY2020-2023 descriptions) and
    is submitted without a stratum name, a multi-rate year has both under CMS's names of that year (CMS lists
    discectomy first, fusion second); nonProportion years and years CMS has no entry for are none."""
    rows = []
    for year, measures in json.loads(CMS_MEASURES.read_text()).items():
        for measure in measures:
            metric, mid = measure["metricType"], measure["measureId"]
            if metric == "singlePerformanceRate":
                rows.append((mid, int(year), "overall" if mid == "220" else "lumbarDiscectomy", metric, None))
            elif metric == "multiPerformanceRate":
                first, second = (stratum["name"] for stratum in measure["strata"])
                rows += [(mid, int(year), "lumbarDiscectomy", metric, first),
                         (mid, int(year), "lumbarFusion", metric, second)]
    return rows


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _prefix_match(column: str, prefixes) -> str:
    return "(" + " or ".join(f"starts_with({column}, '{p}')" for p in prefixes) + ")"


def _setup(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    pairs_params = [
        (m, s, code, post_max, imp_min, *codes)
        for m, (instruments, post_max, imp_min, strata) in PAIRS.items()
        for s, codes in strata.items() for code in instruments
    ]
    con.execute("create or replace temp table ref_pairs_params (measure_id varchar, stratum varchar, "
                "instrument_code varchar, post_max decimal(9,3), improvement_min decimal(9,3), code_met varchar, "
                "code_not_met varchar, code_not_measured varchar)")
    con.executemany("insert into ref_pairs_params values (?, ?, ?, ?, ?, ?, ?, ?)", pairs_params)
    con.execute("create or replace temp table ref_cms (measure_id varchar, performance_year integer, stratum varchar, "
                "metric_type varchar, qpp_stratum varchar)")
    con.executemany("insert into ref_cms values (?, ?, ?, ?, ?)", cms_computed_strata())
    dx_columns = ", ".join(f"diagnosis_code_{i}" for i in range(1, 26))
    con.execute(f"""
    create or replace temp table ref_lines as
    -- the latest delivery of a claim line wins, then lines dated after the as-of date are dropped (project choice,
    -- docs/measures.md "Staging": a correction that moves a line after the as-of date removes it). A line is
    -- claim_id + claim_line_number + data_source (Tuva's grain; an empty data_source is one source of its own);
    -- claim_key is the claim as docs/data_contract.md spells it (a tie-break below)
    with versions as (
        select *, (case when nullif(data_source, '') is null then '|' else length(nullif(data_source, ''))::varchar || ':' || nullif(data_source, '') || '|' end || claim_id) as claim_key, row_number() over (
            partition by claim_id, claim_line_number, nullif(data_source, '')
            order by _delivery desc, _loaded_at desc nulls last, _line_number desc, _source_file desc) as version_rank
        from raw.medical_claim
    )
    select claim_id, claim_line_number, claim_key, person_id,
        coalesce(claim_line_start_date, claim_start_date) as service_date,
        nullif(upper(trim(hcpcs_code)), '') as hcpcs, rendering_tin as tin, rendering_npi as npi,
        list_transform(list_filter([{dx_columns}], lambda x: x is not null and trim(x) <> ''),
                       lambda x: upper(replace(replace(x, '.', ''), ' ', ''))) as dx
    from versions
    where version_rank = 1 and coalesce(claim_line_start_date, claim_start_date) <= DATE '{as_of}'
    """)
    con.execute("""
    create or replace temp table ref_dx as
    select person_id, claim_id, claim_line_number, service_date, unnest(dx) as code from ref_lines
    """)
    # birth date: of the enrollment spans not starting after the as-of date (the latest delivery of a span), the
    # latest one that has one (project choice, docs/measures.md "Staging")
    con.execute(f"""
    create or replace temp table ref_person as
    with spans as (
        select *, row_number() over (partition by person_id, enrollment_start_date, payer, plan
                                     order by _delivery desc, _loaded_at desc, _line_number desc) as version_rank
        from raw.eligibility
        where enrollment_start_date is null or enrollment_start_date <= DATE '{as_of}'
    )
    select person_id,
        arg_max(birth_date, (coalesce(enrollment_start_date, DATE '0001-01-01'),
                             coalesce(enrollment_end_date, DATE '0001-01-01'), birth_date)) as birth_date
    from spans
    where version_rank = 1 and birth_date is not null
    group by person_id
    """)
    # an observation_id delivered again keeps its latest version (project choice, docs/measures.md)
    con.execute(f"""
    create or replace temp table ref_obs as
    with versions as (
        select *, case when observation_id is null then 1 else row_number() over (
            partition by observation_id order by _delivery desc, _loaded_at desc nulls last, _line_number desc)
            end as version_rank
        from raw.observation
    )
    -- the code: normalized_code when it is an instrument's, else source_code (project choice, Tuva's normalized
    -- code preferred)
    select person_id, observation_date as obs_date,
        case when upper(trim(normalized_code)) in {_in(INSTRUMENT_CODES)} then upper(trim(normalized_code))
             else upper(trim(source_code)) end as code,
        cast(trim(result) as decimal(9, 3)) as score
    from versions
    where version_rank = 1 and observation_date <= DATE '{as_of}' and try_cast(trim(result) as decimal(9, 3)) is not null
    """)


def _age(birth: str, on: str) -> str:
    """Completed years; the birthday itself counts (born 29 February: a year older on 1 March in common years)."""
    return (f"(year({on}) - year({birth}) - case when month({on}) * 100 + day({on}) "
            f"< month({birth}) * 100 + day({birth}) then 1 else 0 end)")


def _pairs(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    con.execute(f"""
    create or replace temp table ref_pairs as
    with procedure_days as (
        -- rule 1: one person, one day; a fusion code on the day makes it a fusion case
        select person_id, service_date as procedure_date,
            case when bool_or(hcpcs in {_in(FUSION)}) then 'lumbarFusion' else 'lumbarDiscectomy' end as stratum
        from ref_lines where hcpcs in {_in(DECOMPRESSION + FUSION)}
        group by person_id, service_date
    ),
    adults as (
        select d.*,
            case when stratum = 'lumbarFusion' then procedure_date + interval 9 month
                 else procedure_date + interval 42 day end as window_start,
            case when stratum = 'lumbarFusion' then procedure_date + interval 15 month
                 else procedure_date + interval 140 day end as window_end,
            case when stratum = 'lumbarFusion' then procedure_date + interval 12 month
                 else procedure_date + interval 91 day end as nominal
        from procedure_days d join ref_person p using (person_id)
        where {_age('p.birth_date', 'd.procedure_date')} >= 18
    ),
    case_tin as (
        -- project choice: a line of the stratum's codes on the day, one with a rendering TIN first, then the
        -- lowest claim_id and line number, then claim_key (two sources' lines with the same numbers)
        select a.person_id, a.procedure_date,
            arg_min(l.tin, (l.tin is null, l.claim_id, l.claim_line_number, l.claim_key)) as tin,
            arg_min(l.npi, (l.tin is null, l.claim_id, l.claim_line_number, l.claim_key)) as npi
        from adults a join ref_lines l on l.person_id = a.person_id and l.service_date = a.procedure_date
            and case when a.stratum = 'lumbarFusion' then l.hcpcs in {_in(FUSION)}
                     else l.hcpcs in {_in(DECOMPRESSION)} end
        group by all
    ),
    cases as (
        select m.measure_id, a.*, cast(extract(year from a.window_end) as integer) as performance_year
        from adults a cross join (select distinct measure_id from ref_pairs_params) m
    ),
    excluded as (
        -- rule 4: an exclusion diagnosis from 12 months before through the procedure date, or G9945 reported
        -- from the procedure date through the window end
        select distinct c.person_id, c.procedure_date
        from adults c join ref_dx x on x.person_id = c.person_id
            and x.service_date between c.procedure_date - interval 12 month and c.procedure_date
            and regexp_matches(x.code, '{EXCLUSION_DX_REGEX}')
        union
        select distinct c.person_id, c.procedure_date
        from adults c join ref_lines l on l.person_id = c.person_id and l.hcpcs = '{EXCLUDED_CODE}'
            and l.service_date between c.procedure_date and c.window_end
    ),
    instrument_scores as (
        select distinct p.measure_id, o.person_id, o.obs_date, o.score
        from ref_obs o join ref_pairs_params p on o.code = p.instrument_code
    ),
    pre as (
        -- rule 5: procedure date - 3 calendar months .. procedure date; the latest; same day the lowest
        select c.measure_id, c.person_id, c.procedure_date,
            arg_max(s.score, (s.obs_date, -s.score)) as pre_score, max(s.obs_date) as pre_score_date
        from cases c join instrument_scores s on s.measure_id = c.measure_id and s.person_id = c.person_id
            and s.obs_date between c.procedure_date - interval 3 month and c.procedure_date
        group by all
    ),
    post as (
        -- rule 6: inside the window; closest to the nominal point, a tie to the later; same day the highest
        select c.measure_id, c.person_id, c.procedure_date,
            arg_min(s.score, (abs(date_diff('day', c.nominal, s.obs_date)), -epoch(s.obs_date), -s.score))
                as post_score,
            arg_min(s.obs_date, (abs(date_diff('day', c.nominal, s.obs_date)), -epoch(s.obs_date)))
                as post_score_date
        from cases c join instrument_scores s on s.measure_id = c.measure_id and s.person_id = c.person_id
            and s.obs_date between c.window_start and c.window_end
        group by all
    ),
    params as (
        select distinct measure_id, stratum, post_max, improvement_min, code_met, code_not_met, code_not_measured
        from ref_pairs_params
    )
    select c.person_id, c.measure_id, c.stratum, c.procedure_date as index_date,
        cast(null as date) as episode_end_date, c.window_end,
        case
            when cms.measure_id is null then 'not_eligible'
            when e.person_id is not null then '{EXCLUDED_CODE}'
            when post.post_score is null and DATE '{as_of}' < c.window_end then 'pending'
            when post.post_score is null then p.code_not_measured
            when post.post_score <= p.post_max then p.code_met
            when pre.pre_score is not null and pre.pre_score - post.post_score >= p.improvement_min then p.code_met
            else p.code_not_met
        end as outcome,
        c.performance_year, t.tin, t.npi as rendering_npi, pre.pre_score, pre.pre_score_date, post.post_score, post.post_score_date,
        cast(null as decimal(18, 3)) as residual
    from cases c
    join params p on p.measure_id = c.measure_id and p.stratum = c.stratum
    left join ref_cms cms on cms.measure_id = c.measure_id and cms.performance_year = c.performance_year
        and cms.stratum = c.stratum
    left join excluded e on e.person_id = c.person_id and e.procedure_date = c.procedure_date
    left join pre on pre.measure_id = c.measure_id and pre.person_id = c.person_id
        and pre.procedure_date = c.procedure_date
    left join post on post.measure_id = c.measure_id and post.person_id = c.person_id
        and post.procedure_date = c.procedure_date
    left join case_tin t on t.person_id = c.person_id and t.procedure_date = c.procedure_date
    """)


def _rehab(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    low_back = f"list_bool_or(list_transform(dx, lambda d: {_prefix_match('d', LOW_BACK_PREFIXES)}))"
    con.execute(f"""
    create or replace temp table ref_visit_lines as
    -- a visit: a low back diagnosis in any position, or an M1012 line whatever its diagnosis
    select l.*, l.hcpcs = '{CODES_220["discharge"]}' as is_discharge,
        coalesce(l.hcpcs in {_in(INITIAL_EVALUATION)} and {low_back}
                 and {_age('p.birth_date', 'l.service_date')} >= 14, false) as is_start
    from ref_lines l left join ref_person p using (person_id)
    where coalesce({low_back}, false) or l.hcpcs = '{CODES_220["discharge"]}'
    """)
    # Rule 2 walked day by day: a start opens an episode when none is open; the first M1012 strictly after the
    # start closes it (an evaluation that day starts nothing); more than 60 days without a visit closes it at its
    # last visit.
    con.execute(f"""
    create or replace temp table ref_episodes as
    with recursive days as (
        select person_id, service_date as day, bool_or(is_start) as is_start, bool_or(is_discharge) as is_discharge,
            row_number() over (partition by person_id order by service_date) as n
        from ref_visit_lines group by person_id, service_date
    ),
    walk as (
        select person_id, n, case when is_start then day end as open_start, case when is_start then day end as last_visit,
            cast(null as date) as closed_start, cast(null as date) as closed_end, cast(null as varchar) as end_reason
        from days where n = 1
        union all
        select d.person_id, d.n,
            case when w.open_start is not null and date_diff('day', w.last_visit, d.day) > 60
                     then case when d.is_start then d.day end
                 when w.open_start is not null and d.is_discharge then null
                 when w.open_start is not null then w.open_start
                 when d.is_start then d.day
            end,
            case when w.open_start is not null and date_diff('day', w.last_visit, d.day) > 60
                     then case when d.is_start then d.day end
                 when w.open_start is not null and d.is_discharge then null
                 when w.open_start is not null then d.day
                 when d.is_start then d.day
            end,
            case when w.open_start is not null then w.open_start end,
            case when w.open_start is not null and date_diff('day', w.last_visit, d.day) > 60 then w.last_visit
                 when w.open_start is not null and d.is_discharge then d.day end,
            case when w.open_start is not null and date_diff('day', w.last_visit, d.day) > 60 then 'gap'
                 when w.open_start is not null and d.is_discharge then 'discharge' end
        from walk w join days d on d.person_id = w.person_id and d.n = w.n + 1
    ),
    last_step as (
        select person_id, max(n) as n from walk group by person_id
    )
    select person_id, closed_start as start_date, closed_end as end_date, end_reason
    from walk where closed_end is not null
    union all
    -- still open after the last visit: pending while the last visit is 60 days or fewer before the as-of date
    select w.person_id, w.open_start, w.last_visit,
        case when date_diff('day', w.last_visit, DATE '{as_of}') > 60 then 'gap' else 'open' end
    from walk w join last_step using (person_id, n) where w.open_start is not null
    """)
    con.execute(f"""
    create or replace temp table ref_rehab as
    with episodes as (
        select e.*, cast(extract(year from e.end_date) as integer) as performance_year,
            -- the episode's TIN: its initial-evaluation line, one with a TIN first (project choice)
            (select arg_min(v.tin, (v.tin is null, v.claim_id, v.claim_line_number, v.claim_key)) from ref_visit_lines v
             where v.person_id = e.person_id and v.service_date = e.start_date and v.is_start) as tin,
            (select arg_min(v.npi, (v.tin is null, v.claim_id, v.claim_line_number, v.claim_key)) from ref_visit_lines v
             where v.person_id = e.person_id and v.service_date = e.start_date and v.is_start) as rendering_npi
        from ref_episodes e
    ),
    fs as (select person_id, obs_date, score from ref_obs where code = '{FS_CODE}'),
    intake as (
        -- first FS from 7 days before to 14 days after the start; same day the highest
        select e.person_id, e.start_date, arg_min(fs.score, (fs.obs_date, -fs.score)) as intake_fs,
            min(fs.obs_date) as intake_date
        from episodes e join fs on fs.person_id = e.person_id
            and fs.obs_date between e.start_date - interval 7 day and e.start_date + interval 14 day
        group by all
    ),
    discharge as (
        -- last FS strictly after the intake and by 7 days after the end; same day the lowest
        select i.person_id, i.start_date, arg_max(fs.score, (fs.obs_date, -fs.score)) as discharge_fs,
            max(fs.obs_date) as discharge_date
        from intake i join episodes e using (person_id, start_date) join fs on fs.person_id = i.person_id
            and fs.obs_date > i.intake_date and fs.obs_date <= e.end_date + interval 7 day
        group by all
    ),
    vendor as (
        -- the vendor's prediction dated the intake day; several: the highest
        select i.person_id, i.start_date, max(o.score) as predicted
        from intake i join ref_obs o on o.person_id = i.person_id and o.code = '{PREDICTED_CODE}'
            and o.obs_date = i.intake_date
        group by all
    ),
    model as (
        select term, coefficient from risk_model.coefficients
        where measure_id = '220' and version = (select max(version) from risk_model.coefficients
                                                where measure_id = '220')
    ),
    degenerative as (
        select distinct e.person_id, e.start_date from episodes e join ref_dx x on x.person_id = e.person_id
            and x.service_date <= e.end_date and {_prefix_match('x.code', DEGENERATIVE_PREFIXES)}
        union
        select distinct e.person_id, e.start_date from episodes e join ref_lines l on l.person_id = e.person_id
            and l.hcpcs = '{CODES_220["degenerative"]}' and l.service_date between e.start_date and e.end_date
    ),
    unable as (
        select distinct e.person_id, e.start_date from episodes e join ref_lines l on l.person_id = e.person_id
            and l.hcpcs = '{CODES_220["unable"]}' and l.service_date between e.start_date and e.end_date
    ),
    -- rule 7: a TIN is in scope for a year when one of its episodes ending that year has an intake FS
    in_scope as (
        select distinct e.tin, e.performance_year from episodes e join intake using (person_id, start_date)
    ),
    scored as (
        select e.*, i.intake_fs, i.intake_date, d.discharge_fs, d.discharge_date,
            d.discharge_fs - i.intake_fs as actual,
            -- the open model's prediction is rounded to 3 decimals (project choice, docs/measures_review.md)
            coalesce(v.predicted, cast(round(
                (select sum(coefficient * case term when 'intercept' then 1 when 'intake_fs' then i.intake_fs end)
                 from model), 3) as decimal(9, 3))) as predicted,
            dg.person_id is not null as is_degenerative, u.person_id is not null as is_unable
        from episodes e
        left join intake i using (person_id, start_date)
        left join discharge d using (person_id, start_date)
        left join vendor v using (person_id, start_date)
        left join degenerative dg using (person_id, start_date)
        left join unable u using (person_id, start_date)
    )
    select s.person_id, '220' as measure_id, 'overall' as stratum, s.start_date as index_date,
        s.end_date as episode_end_date, s.end_date as window_end,
        case
            when cms.measure_id is null then 'not_eligible'
            when s.is_degenerative then '{CODES_220["degenerative"]}'
            when s.is_unable then '{CODES_220["unable"]}'
            when s.end_reason = 'open' then 'pending'
            when s.intake_fs is null or s.discharge_fs is null then '{CODES_220["not_measured"]}'
            when s.actual - s.predicted >= 0 then '{CODES_220["met"]}'
            else '{CODES_220["not_met"]}'
        end as outcome,
        s.performance_year, s.tin, s.rendering_npi, s.intake_fs as pre_score, s.intake_date as pre_score_date,
        s.discharge_fs as post_score, s.discharge_date as post_score_date,
        cast(s.actual - s.predicted as decimal(18, 3)) as residual
    from scored s
    join in_scope sc on sc.tin = s.tin and sc.performance_year = s.performance_year
    left join ref_cms cms on cms.measure_id = '220' and cms.performance_year = s.performance_year
    """)


def reference_cases(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    """Builds the temp table `ref_cases` on `con` (the warehouse with the raw tables) and returns its name."""
    _setup(con, as_of)
    _pairs(con, as_of)
    _rehab(con, as_of)
    con.execute("create or replace temp table ref_cases as select * from ref_pairs union all select * from ref_rehab")
    return "ref_cases"


OUTCOME_STATUS = "ref_outcome_status"


def reference_performance(con: duckdb.DuckDBPyConnection) -> str:
    """Rule 10 from `ref_cases`: per measure, stratum (and 'all' strata pooled), performance year and entity (all
    TINs, each TIN), the counts and
    the rate met / (met + not met), a not-measured case counting as not met; excluded, pending and not-eligible
    cases are outside it. Rates in percent, 2 decimals (the project's display rounding)."""
    rows = []
    for mid, (_, _, _, strata) in PAIRS.items():
        for stratum, (met, not_met, not_measured) in strata.items():
            rows += [(mid, stratum, met, "met"), (mid, stratum, not_met, "not_met"),
                     (mid, stratum, not_measured, "not_measured"), (mid, stratum, EXCLUDED_CODE, "excluded")]
    rows += [("220", "overall", CODES_220["met"], "met"), ("220", "overall", CODES_220["not_met"], "not_met"),
             ("220", "overall", CODES_220["not_measured"], "not_measured"),
             ("220", "overall", CODES_220["degenerative"], "excluded"),
             ("220", "overall", CODES_220["unable"], "excluded")]
    con.execute(f"create or replace temp table {OUTCOME_STATUS} (measure_id varchar, stratum varchar, "
                "outcome varchar, status varchar)")
    con.executemany(f"insert into {OUTCOME_STATUS} values (?, ?, ?, ?)", rows)
    con.execute(f"""
    create or replace temp table ref_performance as
    with cases as (
        select c.measure_id, c.stratum, c.performance_year,
            c.tin, coalesce(s.status, c.outcome) as status
        from ref_cases c left join {OUTCOME_STATUS} s using (measure_id, stratum, outcome)
    ),
    counts as (
        select measure_id, case when grouping(stratum) = 0 then stratum else 'all' end as stratum, performance_year,
            case when grouping(tin) = 1 then 'all' else 'tin' end as entity_level, tin,
            count(*) as cases,
            count_if(status = 'pending') as pending, count_if(status = 'not_eligible') as not_eligible,
            count_if(status = 'excluded') as excluded, count_if(status = 'met') as met,
            count_if(status = 'not_met') as not_met, count_if(status = 'not_measured') as not_measured
        from cases
        group by grouping sets ((measure_id, performance_year), (measure_id, performance_year, tin),
                               (measure_id, stratum, performance_year), (measure_id, stratum, performance_year, tin))
    )
    select *, met + not_met + not_measured as eligible_population,
        cast(round(100.0 * met / nullif(met + not_met + not_measured, 0), 2) as decimal(5, 2)) as performance_rate_pct
    from counts
    """)
    return "ref_performance"


def reference_qpp(con: duckdb.DuckDBPyConnection) -> str:
    """What a QPP submission carries, from `ref_performance`: per TIN, performance year and measure with a counted
    case (excluded or in the eligible population) in a year CMS computes the measure, one row per stratum CMS lists
    that year (zero or not) under CMS's name; performance not met = not met + not measured; excluded cases leave
    the eligible population (the QPP docs for MIPS CQMs)."""
    con.execute("""
    create or replace temp table ref_qpp as
    with counted as (
        select tin, performance_year, measure_id from ref_performance
        where entity_level = 'tin' and tin is not null and stratum = 'all' and excluded + eligible_population > 0
    )
    select c.tin, c.performance_year, c.measure_id, cms.stratum, cms.metric_type, cms.qpp_stratum,
        coalesce(p.met, 0) as performance_met, coalesce(p.not_met + p.not_measured, 0) as performance_not_met,
        coalesce(p.eligible_population, 0) as eligible_population
    from counted c
    join ref_cms cms using (measure_id, performance_year)
    left join ref_performance p on p.entity_level = 'tin' and p.tin = c.tin
        and p.performance_year = c.performance_year and p.measure_id = c.measure_id and p.stratum = cms.stratum
    """)
    return "ref_qpp"
