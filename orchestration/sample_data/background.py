"""Care that is not the subject of a measure: routine primary care (with the person's comorbidities), low back
visits to physicians and chiropractors (episodes of TINs that collect no FS score, hence out of scope)."""

from __future__ import annotations

import numpy as np

from orchestration.sample_data import codes
from orchestration.sample_data.dates import days
from orchestration.sample_data.frames import concat_lines, cumsum_within, expand, lines, pick
from orchestration.sample_data.population import Persons
from orchestration.sample_data.providers import Roster

N_CATEGORIES = len(codes.COMORBIDITY_DX)
_CATEGORY_CODES = [np.array(v) for v in codes.COMORBIDITY_DX.values()]


def comorbidity_mask(rng: np.random.Generator, persons: Persons, start: np.datetime64) -> np.ndarray:
    """Boolean persons x categories: which chronic conditions each person has (more with age)."""
    age = (start - persons.birth).astype(np.int64) / 365.25
    scale = np.clip(0.3 + age / 60, 0.3, 1.8)
    return rng.random((len(persons), N_CATEGORIES)) < codes.COMORBIDITY_PREVALENCE * scale[:, None]


def comorbidity_code(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    out = np.empty(category.size, dtype="U8")
    for c, options in enumerate(_CATEGORY_CODES):
        sel = category == c
        out[sel] = options[rng.integers(0, options.size, sel.sum())]
    return out


def random_category(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """One of the set categories per row (-1 when none)."""
    keys = np.where(mask, rng.random(mask.shape), -1.0)
    best = keys.argmax(1)
    return np.where(keys.max(1) >= 0, best, -1)


def routine_dx(rng: np.random.Generator, mask: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """dx1, dx2 of routine visits whose persons' comorbidity rows are `mask` (one row per visit)."""
    c1 = random_category(rng, mask & (rng.random(mask.shape) < 0.8))
    other = pick(rng, codes.OTHER_DX, n)
    dx1 = np.where(c1 >= 0, comorbidity_code(rng, np.maximum(c1, 0)), other)
    mask2 = mask.copy()
    mask2[np.arange(n), np.maximum(c1, 0)] &= c1 < 0
    c2 = random_category(rng, mask2)
    dx2 = np.where(c2 >= 0, comorbidity_code(rng, np.maximum(c2, 0)), np.where(c1 >= 0, other, ""))
    return dx1, dx2


def routine_care(rng, persons: Persons, pcp_tin: np.ndarray, comorbid: np.ndarray, roster: Roster,
                 start: np.datetime64, span_days: int) -> dict:
    n_visits = rng.poisson(2.2 + comorbid.sum(1) * 0.9)
    who, _ = expand(n_visits)
    v = who.size
    date = start + days(rng.integers(0, span_days + 1, v))
    prov = roster.pick_any(rng, pcp_tin[who])
    dx1, dx2 = routine_dx(rng, comorbid[who], v)
    em = np.where(rng.random(v) < 0.12, pick(rng, codes.NEW_EM, v), pick(rng, codes.EST_EM, v, codes.EST_EM_P))
    pos = np.where(rng.random(v) < 0.08, "10", np.where(rng.random(v) < 0.1, "22", "11"))
    n_labs = rng.binomial(4, 0.3, v)
    lab_visit, lab_rank = expand(n_labs)
    labs = codes.LAB_CPT[np.minimum(lab_rank, codes.LAB_CPT.size - 1)]
    flu = np.flatnonzero((rng.random(v) < 0.12) & (date.astype("datetime64[M]").astype(np.int64) % 12 >= 8))
    common = dict(person=persons.index[who], date=date, prov=prov, pos=pos, claim=np.arange(v))
    visits = lines(v, hcpcs=em, dx1=dx1, dx2=dx2, **common)
    lab_lines = lines(lab_visit.size, hcpcs=labs, dx1=dx1[lab_visit], dx2=dx2[lab_visit],
                      **{k: a[lab_visit] for k, a in common.items()})
    flu_lines = lines(flu.size * 2, hcpcs=np.repeat([["90686", "G0008"]], flu.size, 0).ravel(), dx1="Z23",
                      **{k: np.repeat(a[flu], 2) for k, a in common.items()})
    return _same_claims([visits, lab_lines, flu_lines])


def _same_claims(frames: list[dict]) -> dict:
    """Concatenate frames whose `claim` numbers refer to the same claims."""
    return {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}


def back_physician_care(rng, persons: Persons, sel: np.ndarray, roster: Roster, start, span_days) -> dict:
    """Low back visits to primary care and pain physicians, imaging, injections."""
    idx = np.flatnonzero(sel)
    n = idx.size
    tin = np.where(rng.random(n) < 0.6, roster.pick_group(rng, "primary", n), roster.pick_group(rng, "pain", n))
    dx = pick(rng, codes.LOW_BACK_DX, n, codes.LOW_BACK_DX_P)
    n_visits = 1 + rng.poisson(1.5, n)
    who, rank = expand(n_visits)
    first = start + days(rng.integers(0, span_days, n))
    date = first[who] + days(cumsum_within(rng.integers(7, 60, who.size) * (rank > 0), n_visits))
    v = who.size
    em = np.where(rank == 0, pick(rng, codes.NEW_EM, v), pick(rng, codes.EST_EM, v, codes.EST_EM_P))
    common = dict(person=persons.index[idx[who]], date=date, prov=roster.pick_main(rng, tin[who]),
                  dx1=dx[who], pos=np.full(v, "11"), claim=np.arange(v))
    visits = lines(v, hcpcs=em, **common)
    imaging = np.flatnonzero((rank == 0) & (rng.random(v) < 0.5))
    img = lines(imaging.size, hcpcs=pick(rng, codes.IMAGING_CPT, imaging.size), pos="22",
                **{k: a[imaging] for k, a in common.items() if k != "pos"})
    inj = np.flatnonzero((rank > 0) & (rng.random(v) < 0.3))
    injection = lines(inj.size, hcpcs=pick(rng, codes.INJECTION_CPT, inj.size), pos="24",
                      **{k: a[inj] for k, a in common.items() if k != "pos"})
    return _same_claims([visits, img, injection])


def chiro_care(rng, persons: Persons, sel: np.ndarray, roster: Roster, start, span_days) -> dict:
    idx = np.flatnonzero(sel)
    n = idx.size
    tin = roster.pick_group(rng, "chiro", n)
    prov = roster.pick_main(rng, tin)
    dx = pick(rng, codes.LOW_BACK_DX, n, codes.LOW_BACK_DX_P)
    counts = rng.integers(4, 13, n)
    who, rank = expand(counts)
    first = start + days(rng.integers(0, span_days, n))
    date = first[who] + days(cumsum_within(rng.integers(2, 10, who.size) * (rank > 0), counts))
    v = who.size
    common = dict(person=persons.index[idx[who]], date=date, prov=prov[who], dx1=dx[who], pos=np.full(v, "11"),
                  claim=np.arange(v))
    manip = lines(v, hcpcs=pick(rng, codes.CHIRO_CPT, v), **common)
    soft = np.flatnonzero(rng.random(v) < 0.5)
    tissue = lines(soft.size, hcpcs="97140", mod1="GP", mod2="59", **{k: a[soft] for k, a in common.items()})
    return _same_claims([manip, tissue])


def routine_and_background(rng, persons: Persons, comorbid, pcp_tin, roster, start, span_days) -> dict:
    return concat_lines([
        routine_care(rng, persons, pcp_tin, comorbid, roster, start, span_days),
        back_physician_care(rng, persons, persons.cohort == "back_physician", roster, start, span_days),
        chiro_care(rng, persons, persons.cohort == "chiro", roster, start, span_days),
    ])
