"""Lumbar surgery (measure 459 and its siblings): consults, procedures, post-op visits, pre-op and post-op
pain / ODI scores in and around the windows, lumbar exclusion diagnoses, and the codes practices bill."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.sample_data import codes
from orchestration.sample_data.billing import quality_code_lines
from orchestration.sample_data.dates import add_months, age_years, days
from orchestration.sample_data.frames import concat, concat_lines, lines, observations, pick
from orchestration.sample_data.population import Persons
from orchestration.sample_data.providers import Roster

KINDS = np.array(["decompression", "fusion", "same_day", "staged"])
KIND_P = np.array([0.50, 0.25, 0.15, 0.10])
PRE_SCENARIOS = np.array(["one", "two", "same_day", "boundary", "early", "none"])
PRE_P = np.array([0.72, 0.08, 0.03, 0.02, 0.04, 0.11])
POST_SCENARIOS = np.array(["one", "closest", "tie", "same_day", "window_start", "window_end", "outside", "none"])
POST_P = np.array([0.58, 0.08, 0.03, 0.03, 0.02, 0.02, 0.06, 0.18])
OUTCOMES = np.array(["met_low", "met_improvement", "not_met"])
OUTCOME_P = np.array([0.45, 0.15, 0.40])
EXCLUSIONS = np.array(["none", "in_lookback", "lookback_start", "before_lookback", "after_procedure"])
EXCLUSION_P = np.array([0.90, 0.05, 0.01, 0.02, 0.02])
CODES = {False: ("G2136", "G2137", "G9943"), True: ("G2138", "G2139", "G9946")}
EXCLUDED = "G9945"


def _score(rng, lo, hi, step) -> np.ndarray:
    """Uniform scores in tenths between lo and hi, on the instrument's step (1 = one decimal, 10 = integer)."""
    lo_s, hi_s = -(-np.asarray(lo) // step), np.asarray(hi) // step
    return ((lo_s + (rng.random(np.shape(step)) * (hi_s - lo_s + 1)).astype(np.int64)) * step).astype(np.int32)


def surgeries(rng, persons: Persons, sel: np.ndarray, first_date: np.ndarray, kind: np.ndarray,
              allow_exclusion: np.ndarray, roster: Roster, start, end) -> tuple[dict, dict]:
    n = sel.size
    person = persons.index[sel]
    tin = roster.pick_group(rng, "spine", n)
    surgeon, assistant = roster.pick_main(rng, tin), roster.pick_any(rng, tin)
    dx = pick(rng, codes.LOW_BACK_DX, n, codes.LOW_BACK_DX_P)
    D = first_date
    has_decompression = kind != "fusion"
    has_fusion = kind != "decompression"
    fusion_date = D + days(kind == "staged")
    pos = np.where(has_fusion, np.where(rng.random(n) < 0.5, "21", "22"),
                   np.where(rng.random(n) < 0.55, "24", np.where(rng.random(n) < 0.8, "22", "19")))

    # procedures: decompression and fusion share a claim on the same day; staged fusion is its own claim
    dcode, fcode = pick(rng, codes.DECOMPRESSION_CPT, n), pick(rng, codes.FUSION_CPT, n)
    d_idx, f_idx = np.flatnonzero(has_decompression), np.flatnonzero(has_fusion)
    f_claim = np.where(kind == "staged", n + np.arange(n), np.arange(n))
    laterality = np.where(rng.random(n) < 0.5, np.where(rng.random(n) < 0.5, "LT", "RT"), "")
    proc = [lines(d_idx.size, person=person[d_idx], date=D[d_idx], hcpcs=dcode[d_idx], prov=surgeon[d_idx],
                  dx1=dx[d_idx], pos=pos[d_idx], claim=d_idx,
                  mod1=np.where(rng.random(d_idx.size) < 0.05, "22", laterality[d_idx])),
            lines(f_idx.size, person=person[f_idx], date=fusion_date[f_idx], hcpcs=fcode[f_idx],
                  prov=surgeon[f_idx], dx1=dx[f_idx], pos=pos[f_idx], claim=f_claim[f_idx])]
    for base, addons, idx, date, claim in ((dcode, codes.DECOMPRESSION_ADDON, d_idx, D, np.arange(n)),
                                           (fcode, codes.FUSION_ADDON, f_idx, fusion_date, f_claim)):
        addon = np.array([addons.get(c, "") for c in base[idx]]) if idx.size else np.array([], "U5")
        a = idx[(addon != "") & (rng.random(idx.size) < 0.6)]
        proc.append(lines(a.size, person=person[a], date=date[a], hcpcs=np.array([addons[c] for c in base[a]]),
                          units=rng.integers(1, 3, a.size), prov=surgeon[a], dx1=dx[a], pos=pos[a], claim=claim[a]))
    assist = f_idx[rng.random(f_idx.size) < 0.3]
    proc.append(lines(assist.size, person=person[assist], date=fusion_date[assist], hcpcs=fcode[assist],
                      mod1="AS", prov=assistant[assist], dx1=dx[assist], pos=pos[assist], claim=f_claim[assist]))
    procedures = {k: np.concatenate([f[k] for f in proc]) for k in proc[0]}

    # cases: one per procedure day and stratum (same-day decompression merges into the fusion case)
    is_case_d = (kind == "decompression") | (kind == "staged")
    case_of = np.concatenate([np.flatnonzero(is_case_d), f_idx])
    c_date = np.concatenate([D[is_case_d], fusion_date[f_idx]])
    c_fusion = np.concatenate([np.zeros(is_case_d.sum(), bool), np.ones(f_idx.size, bool)])
    c_ws = np.where(c_fusion, add_months(c_date, 9), c_date + days(42))
    c_we = np.where(c_fusion, add_months(c_date, 15), c_date + days(140))
    c_nominal = np.where(c_fusion, add_months(c_date, 12), c_date + days(91))

    # instruments: NRS integers or VAS with one decimal, per person
    step = np.where(rng.random(n) < 0.6, 10, 1).astype(np.int64)
    code = np.where(step == 10, codes.BACK_PAIN_NRS, codes.BACK_PAIN_VAS)
    m = case_of.size
    outcome = OUTCOMES[rng.choice(3, m, p=OUTCOME_P)]
    cstep = step[case_of]
    post = np.where(outcome == "met_low", np.where(rng.random(m) < 0.15, 30, _score(rng, 0, 30, cstep)),
                    np.where(outcome == "met_improvement", _score(rng, 31, 50, cstep), _score(rng, 31, 90, cstep)))
    gain = np.where(outcome == "met_improvement",
                    np.where(rng.random(m) < 0.25, 50, _score(rng, 50, 70, cstep)),
                    np.where(outcome == "not_met", _score(rng, -20, 49, cstep), _score(rng, 20, 70, cstep)))
    pre_value = np.full(n, -1, dtype=np.int64)
    pre_value[case_of] = np.clip(post + gain, 0, 100)  # staged: the fusion case's pre-op score wins
    pre_value[pre_value < 0] = _score(rng, 50, 100, step)[pre_value < 0]

    obs = [_pre_op_scores(rng, person, D, pre_value, step, code, n)]
    post_obs, post_dates = _post_op_scores(rng, person[case_of], c_date, c_fusion, c_ws, c_we, c_nominal, post,
                                           cstep, code[case_of], m)
    obs.append(post_obs)
    obs.append(_siblings(rng, person, D - days(rng.integers(10, 61, n)), c_nominal, case_of, n))
    consult = D - days(rng.integers(10, 61, n))
    visits = [lines(n, person=person, date=consult, hcpcs=pick(rng, codes.NEW_EM[2:], n), prov=surgeon, dx1=dx,
                    pos="11", claim=np.arange(n)),
              lines(m, person=person[case_of], date=c_date + days(14), hcpcs="99024", prov=surgeon[case_of],
                    dx1=dx[case_of], pos="11", claim=np.arange(m))]
    pv_case = post_dates["case"]
    pv_date = post_dates["date"]
    visits.append(lines(pv_case.size, person=person[case_of][pv_case], date=pv_date,
                        hcpcs=np.where((pv_date - c_date[pv_case]).astype(np.int64) <= 90, "99024", "99213"),
                        prov=np.where(rng.random(pv_case.size) < 0.7, surgeon[case_of][pv_case],
                                      assistant[case_of][pv_case]),
                        dx1=dx[case_of][pv_case], pos="11", claim=np.arange(pv_case.size)))
    exclusion = _exclusion_lines(rng, persons, sel, D, allow_exclusion, roster, start)

    observations_all = concat(obs)
    intended, report_date = _intended_codes(person[case_of], c_date, c_fusion, c_ws, c_we, c_nominal,
                                            persons.birth[sel][case_of], observations_all, exclusion, end)
    billed = quality_code_lines(rng, intended, person[case_of], report_date, surgeon[case_of], dx[case_of],
                                np.full(m, "11"))
    return concat_lines([procedures, *visits, exclusion, billed]), observations_all


def _pre_op_scores(rng, person, D, value, step, code, n) -> dict:
    scenario = PRE_SCENARIOS[rng.choice(PRE_SCENARIOS.size, n, p=PRE_P)]
    window_start = add_months(D, -3)
    main_date = np.select(
        [scenario == "two", scenario == "boundary", scenario == "early"],
        [D - days(rng.integers(0, 6, n)), window_start, window_start - days(rng.integers(1, 21, n))],
        D - days(rng.integers(6, 61, n)))
    has_main = scenario != "none"
    decoy = (scenario == "two") | (scenario == "same_day")
    decoy_date = np.where(scenario == "two", D - days(rng.integers(20, 61, n)), main_date)
    # the least favourable of same-day pre-op scores is the lowest, so the decoy scores higher
    decoy_value = np.where(scenario == "two", _score(rng, 30, 100, step),
                           np.minimum(100, value + step * rng.integers(1, 5, n)))
    keep = np.concatenate([has_main, decoy])
    return observations(int(keep.sum()), person=np.tile(person, 2)[keep],
                        date=np.concatenate([main_date, decoy_date])[keep], code=np.tile(code, 2)[keep],
                        tenths=np.concatenate([value, decoy_value])[keep], decimals=np.tile(step == 1, 2)[keep])


def _post_op_scores(rng, person, c_date, fusion, ws, we, nominal, value, step, code, m):
    scenario = POST_SCENARIOS[rng.choice(POST_SCENARIOS.size, m, p=POST_P)]
    half = np.where(fusion, 75, 30)
    near = nominal + days((rng.random(m) * (2 * half + 1)).astype(np.int64) - half)
    k = rng.integers(3, 21, m)
    far = np.where(fusion, rng.integers(60, 150, m), rng.integers(25, 45, m))
    side = np.where(rng.random(m) < 0.5, -1, 1)
    main_date = np.select(
        [scenario == "closest", scenario == "tie", scenario == "window_start", scenario == "window_end",
         scenario == "outside"],
        [nominal + days(rng.integers(-10, 11, m)), nominal + days(k), ws, we,
         np.where(rng.random(m) < 0.5, ws - days(rng.integers(1, 21, m)), we + days(rng.integers(1, 31, m)))],
        near)
    main_date = np.where(np.isin(scenario, ["one"]), np.clip(main_date, ws, we), main_date)
    decoy = np.isin(scenario, ["closest", "tie", "same_day"])
    decoy_date = np.select([scenario == "closest", scenario == "tie"],
                           [np.clip(nominal + days(side * far), ws, we), nominal - days(k)], main_date)
    # a tie goes to the later score and same-day scores to the highest: decoys lose both ways
    decoy_value = np.where(scenario == "same_day", np.maximum(0, value - step * rng.integers(1, 5, m)),
                           _score(rng, 0, 100, step))
    has_main = scenario != "none"
    keep = np.concatenate([has_main, decoy])
    case = np.tile(np.arange(m), 2)[keep]
    frame = observations(int(keep.sum()), person=np.tile(person, 2)[keep],
                         date=np.concatenate([main_date, decoy_date])[keep], code=np.tile(code, 2)[keep],
                         tenths=np.concatenate([value, decoy_value])[keep], decimals=np.tile(step == 1, 2)[keep])
    return frame, {"case": case, "date": frame["date"]}


def _siblings(rng, person, pre_date, nominal, case_of, n) -> dict:
    """Leg pain (461) and ODI (471) around the same surgeries, on their own schedules."""
    leg = rng.random(n) < 0.5
    odi = rng.random(n) < 0.4
    m = case_of.size
    post_date = nominal + days(rng.integers(-30, 31, m))
    parts = []
    for has, code, lo_pre, lo_post, hi in ((leg, codes.LEG_PAIN, 30, 0, 100), (odi, codes.ODI, 200, 0, 900)):
        step = np.full(n, 10)
        parts.append(observations(int(has.sum()), person=person[has], date=pre_date[has], code=code,
                                  tenths=_score(rng, lo_pre, hi, step)[has]))
        hc = has[case_of]
        parts.append(observations(int(hc.sum()), person=person[case_of][hc], date=post_date[hc], code=code,
                                  tenths=_score(rng, lo_post, hi, step[case_of])[hc]))
    return concat(parts)


def _exclusion_lines(rng, persons, sel, D, allow, roster, start) -> dict:
    n = sel.size
    scenario = np.where(allow, EXCLUSIONS[rng.choice(EXCLUSIONS.size, n, p=EXCLUSION_P)], "none")
    lookback = add_months(D, -12)
    date = np.select(
        [scenario == "in_lookback", scenario == "lookback_start", scenario == "before_lookback"],
        [D - days(rng.integers(0, 331, n)), lookback, lookback - days(rng.integers(1, 121, n))],
        D + days(rng.integers(1, 61, n)))
    keep = np.flatnonzero((scenario != "none") & (date >= start))
    tin = roster.pick_group(rng, "primary", keep.size)
    return lines(keep.size, person=persons.index[sel][keep], date=date[keep],
                 hcpcs=pick(rng, codes.EST_EM, keep.size, codes.EST_EM_P), prov=roster.pick_main(rng, tin),
                 dx1=pick(rng, codes.LUMBAR_EXCLUSION_DX, keep.size), pos="11", claim=np.arange(keep.size))


INTENDED_SQL = """
with cases as (select * from cases_in),
pre as (
    select c.case_no, o.tenths, row_number() over (partition by c.case_no order by o.date desc, o.tenths asc) as rn
    from cases c join pain o on o.person = c.person and o.date between c.pre_start and c.proc_date
),
post as (
    select c.case_no, o.tenths, o.date,
           row_number() over (partition by c.case_no
                              order by abs(o.date - c.nominal) asc, o.date desc, o.tenths desc) as rn
    from cases c join pain o on o.person = c.person and o.date between c.ws and c.we
),
excluded as (
    select distinct c.case_no from cases c join excl x
      on x.person = c.person and x.date between c.lookback_start and c.proc_date
)
select c.case_no, pre.tenths as pre, post.tenths as post, post.date as post_date,
       c.case_no in (select case_no from excluded) as excluded
from cases c
left join pre on pre.case_no = c.case_no and pre.rn = 1
left join post on post.case_no = c.case_no and post.rn = 1
order by c.case_no
"""


def _intended_codes(person, proc_date, fusion, ws, we, nominal, birth, obs, exclusion, end):
    """The code the clinical data supports, by the project's rules (docs/sample_data.md), and its date."""
    pain = np.isin(obs["code"], [codes.BACK_PAIN_NRS, codes.BACK_PAIN_VAS]) & (obs["date"] <= end)
    cases = pa.table({"case_no": np.arange(person.size), "person": person, "proc_date": proc_date, "ws": ws,
                      "we": we, "nominal": nominal, "pre_start": add_months(proc_date, -3),
                      "lookback_start": add_months(proc_date, -12)})
    pain_t = pa.table({"person": obs["person"][pain], "date": obs["date"][pain], "tenths": obs["tenths"][pain]})
    excl_t = pa.table({"person": exclusion["person"], "date": exclusion["date"]})
    con = duckdb.connect()
    con.register("cases_in", cases)
    con.register("pain", pain_t)
    con.register("excl", excl_t)
    r = con.sql(INTENDED_SQL).to_arrow_table()  # a relation: no extra copy (a DB-API result warns)
    con.close()
    pre = r["pre"].to_numpy(zero_copy_only=False).astype(np.float64)  # nulls become NaN
    post = r["post"].to_numpy(zero_copy_only=False).astype(np.float64)
    has_post = ~np.isnan(post)
    post_date = np.asarray(r["post_date"].fill_null(pa.scalar(0, pa.date32())).to_numpy(zero_copy_only=False),
                           dtype="datetime64[D]")
    met_code = np.where(fusion, CODES[True][0], CODES[False][0])
    not_met_code = np.where(fusion, CODES[True][1], CODES[False][1])
    unmeasured_code = np.where(fusion, CODES[True][2], CODES[False][2])
    met = has_post & ((post <= 30) | (~np.isnan(pre) & (pre - post >= 50)))
    excluded = r["excluded"].to_numpy(zero_copy_only=False).astype(bool)
    adult = age_years(birth, proc_date) >= 18
    pending = ~has_post & (we > end)
    intended = np.select(
        [~adult, excluded, pending, ~has_post, met], ["", EXCLUDED, "", unmeasured_code, met_code], not_met_code)
    report_date = np.select([excluded, has_post], [proc_date, post_date], np.minimum(we, end))
    return intended.astype("U5"), report_date
