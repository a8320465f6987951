"""Physical-therapy episodes of care for low back impairments (measure 220): evaluation, treatment visits,
discharge, FOTO low back FS scores at intake and discharge, vendor predictions, exclusions and billed codes.

Two phases: plan_episodes writes the claims; score_episodes, run once every claim of the persons exists,
derives the risk-model features from those claims (truth.py) and draws the FS scores from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.sample_data import codes
from orchestration.sample_data.billing import quality_code_lines
from orchestration.sample_data.dates import age_years, days
from orchestration.sample_data.frames import concat, concat_lines, cumsum_within, expand, lines, observations, pick
from orchestration.sample_data.population import Persons
from orchestration.sample_data.providers import Roster
from orchestration.sample_data.surgery import surgeries
from orchestration.sample_data.truth import TRUE_FS_CHANGE_NOISE_SD, episode_features, expected_change

SECOND_EPISODE_SHARE = 0.15
PRIOR_SURGERY_SHARE = 0.12
DISCHARGED_SHARE = 0.80  # M1012 on the last visit
GAP_SCENARIOS = np.array(["regular", "gap_60", "gap_61"])  # a 60-day gap keeps the episode open, 61 closes it
GAP_P = np.array([0.98, 0.01, 0.01])
ACUITY = np.array(["acute", "subacute", "chronic"])  # first low back diagnosis <= 21, 22-90, > 90 days before
ACUITY_P = np.array([0.45, 0.30, 0.25])
INTAKE = np.array(["on_start", "before", "after", "tie", "missing", "outside"])
INTAKE_P = np.array([0.82, 0.03, 0.05, 0.03, 0.04, 0.03])
DISCHARGE = np.array(["on_end", "after", "tie", "missing", "late"])
DISCHARGE_P = np.array([0.78, 0.06, 0.03, 0.10, 0.03])
VENDOR_SHARE = 0.40
NEURO_SHARE, M1122_SHARE, G9733_SHARE, NEURO_AFTER_SHARE = 0.02, 0.01, 0.015, 0.01
MID_FS_SHARE = 0.30
PENDING_DAYS = 60


@dataclass
class Episodes:
    person_local: np.ndarray
    start: np.ndarray
    end: np.ndarray            # last visit of the episode as generated (M1012 day when discharged)
    discharged: np.ndarray
    tin: np.ndarray
    prov: np.ndarray
    dx: np.ndarray
    pos: np.ndarray
    mid_date: np.ndarray
    neuro: np.ndarray


def _visits(rng, roster: Roster, person: np.ndarray, S: np.ndarray, tin: np.ndarray, dx: np.ndarray,
            neuro_dx: np.ndarray) -> tuple[dict, Episodes]:
    n = S.size
    counts = np.minimum(3 + rng.poisson(7, n), 30)
    ep, rank = expand(counts)
    gaps = rng.integers(2, 10, ep.size) * (rank > 0)
    gap_case = GAP_SCENARIOS[rng.choice(3, n, p=GAP_P)]
    middle = rank == (counts[ep] // 2)
    gaps = np.where(middle & (gap_case[ep] == "gap_60"), 60, np.where(middle & (gap_case[ep] == "gap_61"), 61, gaps))
    date = S[ep] + days(cumsum_within(gaps, counts))
    last = rank == counts[ep] - 1
    end = date[last]
    prov = roster.pick_main(rng, tin)
    visit_prov = np.where(rank == 0, prov[ep], roster.pick_any(rng, tin[ep]))
    assistant = ~roster.is_main[visit_prov]
    pos = np.array(["11", "62", "22"])[rng.choice(3, n, p=[0.7, 0.15, 0.15])]
    dx2 = np.where(rng.random(n) < 0.3, pick(rng, codes.LOW_BACK_DX, n, codes.LOW_BACK_DX_P), "")
    dx3 = np.where(neuro_dx != "", neuro_dx, np.where(rng.random(n) < 0.4, pick(rng, codes.PT_SECONDARY_DX, n), ""))
    v = ep.size
    common = dict(person=person[ep], date=date, prov=visit_prov, dx1=dx[ep], dx2=dx2[ep], dx3=dx3[ep],
                  pos=pos[ep], claim=np.arange(v))

    def sub(mask, **cols):
        idx = np.flatnonzero(mask)
        return lines(idx.size, **{k: a[idx] for k, a in common.items()}, **{k: (c[idx] if np.ndim(c) else c)
                                                                           for k, c in cols.items()})

    first_code, second_code = rng.integers(0, 4, v), rng.integers(1, 4, v)
    treatment = codes.PT_TREATMENT_CPT
    cq = np.where(assistant, "CQ", "")
    parts = [
        sub(rank == 0, hcpcs=pick(rng, codes.PT_EVAL_CPT, v, codes.PT_EVAL_P), mod1="GP"),
        sub((rank == 0) & (rng.random(v) < 0.3), hcpcs="M1121"),
        sub(rank > 0, hcpcs=treatment[first_code], units=rng.integers(1, 4, v), mod1="GP", mod2=cq),
        sub(rng.random(v) < 0.6, hcpcs=treatment[(first_code + second_code) % 4], units=rng.integers(1, 3, v),
            mod1="GP", mod2=np.where(assistant, "CQ", np.where(rng.random(v) < 0.1, "59", ""))),
        # a re-evaluation and, rarely, a second initial evaluation inside the open episode (starts nothing)
        sub(middle & (rank > 0) & (rng.random(v) < 0.10), hcpcs="97164", mod1="GP"),
        sub(middle & (rank > 0) & (rng.random(v) < 0.03), hcpcs="97161", mod1="GP"),
    ]
    discharged = rng.random(n) < DISCHARGED_SHARE
    parts.append(sub(last & discharged[ep], hcpcs="M1012"))
    visit_lines = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    # a few visits continue after the discharge code (M1012 still closes the episode)
    trailing = np.flatnonzero(discharged & (rng.random(n) < 0.03))
    after = lines(trailing.size, person=person[trailing], date=end[trailing] + days(rng.integers(3, 11, trailing.size)),
                  hcpcs="97110", mod1="GP", prov=prov[trailing], dx1=dx[trailing], pos=pos[trailing],
                  claim=np.arange(trailing.size))
    mid_date = date[middle]
    return concat_lines([visit_lines, after]), Episodes(
        person_local=np.zeros(n, dtype=np.int64), start=S, end=end, discharged=discharged, tin=tin, prov=prov,
        dx=dx, pos=pos, mid_date=mid_date, neuro=neuro_dx != "")


def plan_episodes(rng, persons: Persons, roster: Roster, start, end) -> tuple[dict, dict, Episodes]:
    r = np.flatnonzero(persons.cohort == "rehab")
    n = r.size
    span = int((end - start).astype(np.int64))
    S1 = start + days(rng.integers(100, span - 4, n))
    tin = roster.pick_group(rng, "pt_clinic", n)
    dx = pick(rng, codes.LOW_BACK_DX, n, codes.LOW_BACK_DX_P)
    neuro_dx = np.where(rng.random(n) < NEURO_SHARE, pick(rng, codes.NEURO_DX, n), "")
    person = persons.index[r]
    parts, obs = [], []

    # lumbar surgery 260-850 days before the first episode: its last post-op visit (at most 170 days after the
    # surgery) ends more than 60 days before the start, so the evaluation opens a new episode
    room = (S1 - start).astype(np.int64) - 30
    prior = np.flatnonzero((rng.random(n) < PRIOR_SURGERY_SHARE) & (room > 260))
    D = S1[prior] - days(rng.integers(260, np.minimum(850, room[prior]) + 1))
    s_lines, s_obs = surgeries(rng, persons, r[prior], D, np.full(prior.size, "decompression"),
                               np.zeros(prior.size, bool), roster, start, end)
    parts.append(s_lines)
    obs.append(s_obs)

    # symptom acuity: imaging with a low back diagnosis before the start (imaging starts no episode)
    acuity = ACUITY[rng.choice(3, n, p=ACUITY_P)]
    acuity[prior] = "surgery"
    lag = np.select([acuity == "acute", acuity == "subacute"],
                    [rng.integers(1, 22, n), rng.integers(22, 91, n)],
                    rng.integers(91, 401, n))
    img_date = S1 - days(lag)
    imaging = np.flatnonzero(((acuity != "acute") | (rng.random(n) < 0.5)) & (acuity != "surgery")
                             & (img_date >= start))
    img_tin = roster.pick_group(rng, "primary", imaging.size)
    parts.append(lines(imaging.size, person=person[imaging], date=img_date[imaging],
                       hcpcs=pick(rng, codes.IMAGING_CPT, imaging.size), prov=roster.pick_main(rng, img_tin),
                       dx1=dx[imaging], pos="22", claim=np.arange(imaging.size)))

    v1, ep1 = _visits(rng, roster, person, S1, tin, dx, neuro_dx)
    ep1.person_local = r
    second = np.flatnonzero(rng.random(n) < SECOND_EPISODE_SHARE)
    S2 = ep1.end[second] + days(rng.integers(75, 201, second.size))
    v2, ep2 = _visits(rng, roster, person[second], S2, tin[second], dx[second], neuro_dx[second])
    ep2.person_local = r[second]
    episodes = Episodes(**{k: np.concatenate([getattr(ep1, k), getattr(ep2, k)])
                           for k in Episodes.__dataclass_fields__})
    return concat_lines([*parts, v1, v2]), concat(obs), episodes


def score_episodes(rng, persons: Persons, episodes: Episodes, roster: Roster, all_lines: dict, start, end):
    """FS scores, vendor predictions, exclusions and billed codes of every episode."""
    e = episodes
    n = e.start.size
    pl = e.person_local
    person = persons.index[pl]
    intake = np.clip(np.round(rng.normal(48, 13, n)), 10, 85).astype(np.int64)
    mine = np.isin(all_lines["person"], person)
    feats = episode_features(person, e.start, intake, persons.birth[pl], persons.sex[pl], persons.payer_type[pl],
                             {k: v[mine] for k, v in all_lines.items()})
    expected = expected_change(feats)
    change = np.round(expected + rng.normal(0, TRUE_FS_CHANGE_NOISE_SD, n)).astype(np.int64)
    discharge = np.clip(intake + change, 0, 100)

    m1122 = rng.random(n) < M1122_SHARE
    g9733 = rng.random(n) < G9733_SHARE
    intake_case = INTAKE[rng.choice(INTAKE.size, n, p=INTAKE_P)]
    intake_case[g9733] = "missing"
    length = (e.end - e.start).astype(np.int64)
    intake_date = np.select(
        [intake_case == "before", intake_case == "after", intake_case == "outside"],
        [e.start - days(rng.integers(1, 8, n)), e.start + days(1 + (rng.random(n) * np.minimum(14, length - 1)).astype(np.int64)),
         e.start + days(rng.integers(15, 26, n))],
        e.start)
    has_intake = ~np.isin(intake_case, ["missing"])
    counted_intake = ~np.isin(intake_case, ["missing", "outside"])
    discharge_case = DISCHARGE[rng.choice(DISCHARGE.size, n, p=DISCHARGE_P)]
    discharge_date = np.select([discharge_case == "after", discharge_case == "late"],
                               [e.end + days(rng.integers(1, 8, n)), e.end + days(rng.integers(8, 21, n))], e.end)
    has_discharge = discharge_case != "missing"
    mid = (rng.random(n) < MID_FS_SHARE) & (e.mid_date > intake_date) & (e.mid_date < e.end)
    mid_value = np.clip(intake + np.round(change * rng.uniform(0.3, 0.7, n)), 0, 100).astype(np.int64)
    vendor = counted_intake & (rng.random(n) < VENDOR_SHARE)
    vendor_date = intake_date + days(rng.random(n) < 0.02)  # a few dated off the intake day do not count
    predicted_tenths = np.round((expected + rng.normal(0, 2.5, n)) * 10).astype(np.int64)
    fs = lambda mask, date, value: observations(int(mask.sum()), person=person[mask], date=date[mask],
                                                 code=codes.FS, tenths=value[mask] * 10)
    obs = concat([
        fs(has_intake, intake_date, intake),
        # same-day ties: the least favourable counts (highest intake, lowest discharge), decoys lose
        fs(intake_case == "tie", intake_date, np.maximum(0, intake - rng.integers(1, 8, n))),
        fs(has_discharge, discharge_date, discharge),
        fs(has_discharge & (discharge_case == "tie"), discharge_date, np.minimum(100, discharge + rng.integers(1, 8, n))),
        fs(mid, e.mid_date, mid_value),
        observations(int(vendor.sum()), person=person[vendor], date=vendor_date[vendor], code=codes.FS_PREDICTED,
                     tenths=predicted_tenths[vendor], decimals=1),
    ])

    # what the pipeline can see at the end of the data
    discharged_seen = e.discharged & (e.end <= end)
    last_seen = np.minimum(e.end, end)
    pending = ~discharged_seen & ((e.end > end) | ((end - e.end).astype(np.int64) <= PENDING_DAYS))
    seen_discharge = np.where(has_discharge & (discharge_case != "late") & (discharge_date <= end), discharge,
                              np.where(mid & (e.mid_date <= end), mid_value, -1))
    vendor_counted = vendor & (vendor_date == intake_date)
    predicted = np.where(vendor_counted, predicted_tenths / 10, expected)
    residual = seen_discharge - intake - predicted
    child = age_years(persons.birth[pl], e.start) < 14
    intended = np.select(
        [child, m1122, g9733, pending, e.neuro, ~counted_intake | (seen_discharge < 0), residual >= 0],
        ["", "", "", "", "M1122", "G8662", "G8659"], "G8660").astype("U5")
    billed = quality_code_lines(rng, intended, person, last_seen, e.prov, e.dx, e.pos)

    # exclusions reported in the episode are the exclusion itself: always on the claims
    reported = np.flatnonzero(m1122 | g9733)
    excl = lines(reported.size, person=person[reported], date=e.start[reported],
                 hcpcs=np.where(m1122[reported], "M1122", "G9733"), prov=e.prov[reported], dx1=e.dx[reported],
                 pos=e.pos[reported], claim=np.arange(reported.size))
    # a degenerative neurological diagnosis after the episode does not exclude it
    later = np.flatnonzero((rng.random(n) < NEURO_AFTER_SHARE) & ~e.neuro)
    later_tin = roster.pick_group(rng, "primary", later.size)
    neuro_after = lines(later.size, person=person[later], date=e.end[later] + days(rng.integers(20, 61, later.size)),
                        hcpcs="99214", prov=roster.pick_main(rng, later_tin),
                        dx1=pick(rng, codes.NEURO_DX, later.size), pos="11", claim=np.arange(later.size))
    return concat_lines([billed, excl, neuro_after]), obs
