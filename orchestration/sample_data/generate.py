"""One chunk of persons: every table's rows for them, rendered to the contract."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.sample_data import background, render
from orchestration.sample_data.frames import concat, concat_lines, take
from orchestration.sample_data.population import eligibility_spans, make_persons
from orchestration.sample_data.providers import Roster
from orchestration.sample_data.rehab import plan_episodes, score_episodes
from orchestration.sample_data.surgery import KIND_P, KINDS, surgeries
from orchestration.sample_data.dates import days


def generate_chunk(seed: int, chunk: int, first: int, n: int, roster: Roster, start: np.datetime64,
                   end: np.datetime64) -> dict[str, tuple[pa.Table, np.ndarray]]:
    rng = np.random.default_rng([seed, 2, chunk])
    span = int((end - start).astype(np.int64))
    persons = make_persons(rng, first, n, start)
    comorbid = background.comorbidity_mask(rng, persons, start)
    pcp_tin = roster.pick_group(rng, "primary", n)
    routine = background.routine_and_background(rng, persons, comorbid, pcp_tin, roster, start, span)

    s = np.flatnonzero(persons.cohort == "surgery")
    kind = KINDS[rng.choice(KINDS.size, s.size, p=KIND_P)]
    surgery_date = start + days(rng.integers(60, span - 4, s.size))
    s_lines, s_obs = surgeries(rng, persons, s, surgery_date, kind, np.ones(s.size, bool), roster, start, end)

    r_lines, r_obs, episodes = plan_episodes(rng, persons, roster, start, end)
    claims = concat_lines([routine, s_lines, r_lines])
    e_lines, e_obs = score_episodes(rng, persons, episodes, roster, claims, start, end)
    claims = concat_lines([claims, e_lines])
    obs = concat([s_obs, r_obs, e_obs])

    # the data end at `end`: later care is not delivered yet
    claims = take(claims, (claims["date"] >= start) & (claims["date"] <= end))
    obs = take(obs, (obs["date"] >= start) & (obs["date"] <= end))
    return {
        "medical_claim": render.medical_claims(rng, claims, persons, roster, chunk),
        "eligibility": render.eligibility(eligibility_spans(persons, start, end), persons),
        "observation": render.observations(rng, obs, chunk),
    }
