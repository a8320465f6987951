"""Persons (cohort, birth date, sex, payer) and their eligibility spans."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.sample_data import codes
from orchestration.sample_data.dates import days
from orchestration.sample_data.frames import expand

# Each person follows one story; everybody also gets routine care (background.py).
COHORTS = np.array(["routine", "rehab", "surgery", "back_physician", "chiro"])
COHORT_P = np.array([0.72, 0.12, 0.04, 0.09, 0.03])
SEXES = np.array(["female", "male", "unknown"])


@dataclass(frozen=True)
class Persons:
    index: np.ndarray         # global person number (person_id is derived from it)
    cohort: np.ndarray
    birth: np.ndarray
    sex: np.ndarray
    payer_type: np.ndarray
    payer: np.ndarray         # eligibility payer display name
    plan: np.ndarray

    def __len__(self) -> int:
        return self.index.size


def _ages(rng: np.random.Generator, cohort: np.ndarray) -> np.ndarray:
    n = cohort.size
    age = np.clip(rng.normal(48, 20, n), 1, 95)
    rehab, surgery = cohort == "rehab", cohort == "surgery"
    age[rehab] = np.clip(rng.normal(55, 16, rehab.sum()), 20, 92)
    age[surgery] = np.clip(rng.normal(61, 12, surgery.sum()), 19, 88)
    # children and adolescents in physical therapy (220 needs age >= 14) and rare adolescent surgery (459: >= 18)
    young = rehab & (rng.random(n) < 0.06)
    age[young] = rng.uniform(9, 18, young.sum())
    teen_surgery = surgery & (rng.random(n) < 0.03)
    age[teen_surgery] = rng.uniform(15.5, 17.9, teen_surgery.sum())
    return age


def make_persons(rng: np.random.Generator, first: int, n: int, start: np.datetime64) -> Persons:
    cohort = COHORTS[rng.choice(COHORTS.size, n, p=COHORT_P)]
    age = _ages(rng, cohort)
    birth = start - days(np.round(age * 365.25))
    # no 29 February birthdays: their anniversary is a convention the measure does not settle
    feb29 = (birth.astype("datetime64[M]").astype(np.int64) % 12 == 1) & (
        (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) == 28)
    birth[feb29] -= np.timedelta64(1, "D")
    sex = SEXES[rng.choice(3, n, p=[0.52, 0.475, 0.005])]
    sex[cohort != "routine"] = np.where(rng.random((cohort != "routine").sum()) < 0.53, "female", "male")

    senior = age >= 65
    payer_type = np.where(
        senior,
        codes.PAYER_TYPES[rng.choice(5, n, p=[0.52, 0.40, 0.05, 0.01, 0.02])],
        codes.PAYER_TYPES[rng.choice(5, n, p=[0.02, 0.0, 0.70, 0.22, 0.06])],
    )
    payer = np.empty(n, dtype="U24")
    commercial = payer_type == "commercial"
    payer[commercial] = codes.COMMERCIAL_PAYERS[rng.choice(4, commercial.sum(), p=codes.COMMERCIAL_P)]
    for ptype, name in codes.ELIGIBILITY_PAYER.items():
        payer[payer_type == ptype] = name
    plan = np.empty(n, dtype="U32")
    pick = rng.random(n)
    for name, plans in codes.PLANS.items():
        mask = payer == name
        plan[mask] = np.array(plans)[(pick[mask] * len(plans)).astype(int)]
    return Persons(np.arange(first, first + n, dtype=np.int64), cohort, birth, sex, payer_type, payer, plan)


def eligibility_spans(persons: Persons, start: np.datetime64, end: np.datetime64) -> dict[str, np.ndarray]:
    """One span per person and calendar year of the data window, same payer and plan throughout (the risk
    model reads the payer type of the latest enrollment, so it must not change under the generator's feet)."""
    first_year = start.astype("datetime64[Y]").astype(np.int64)
    n_years = end.astype("datetime64[Y]").astype(np.int64) - first_year + 1
    who, k = expand(np.full(len(persons), n_years))
    year_start = (first_year + k).astype("datetime64[Y]").astype("datetime64[D]")
    year_end = (first_year + k + 1).astype("datetime64[Y]").astype("datetime64[D]") - np.timedelta64(1, "D")
    return {
        "person": persons.index[who],
        "start": np.maximum(year_start, start),
        "end": np.minimum(year_end, end),
        "who": who,
    }
