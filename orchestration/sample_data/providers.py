"""The provider roster: group practices (TINs) of clinicians with valid NPIs and NUCC taxonomies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.sample_data.frames import expand

# group type -> (persons per group, main role taxonomies, secondary role taxonomies, name stems)
GROUP_TYPES = {
    "pt_clinic": (600, ("225100000X", "2251X0800X"), ("225200000X",), "Physical Therapy"),
    "spine": (2000, ("207XS0117X", "207T00000X", "207X00000X"), ("363A00000X",), "Spine Associates"),
    "pain": (2500, ("208100000X", "2081P2900X", "208VP0000X", "208VP0014X", "207LP2900X"), ("363L00000X",),
             "Pain & Rehabilitation"),
    "primary": (500, ("207Q00000X", "207R00000X"), ("363L00000X",), "Family Medicine"),
    "chiro": (3000, ("111N00000X",), (), "Chiropractic"),
}
PLACE_NAMES = np.array([
    "Lakeside", "Riverbend", "Summit", "Cedar Valley", "Northgate", "Harbor", "Prairie", "Westfield",
    "Oak Ridge", "Maple Grove", "Bayview", "Pinecrest", "Stonebridge", "Meadowbrook", "Clearwater", "Highland",
])
NPI_PREFIX_SUM = 24  # Luhn contribution of the card-issuer prefix 80840 that NPIs are checked with


def npi_check_digit(base9: np.ndarray) -> np.ndarray:
    """Luhn check digit of 9-digit NPI bases, with the 80840 prefix rule (CMS NPI standard)."""
    digits = (base9[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    doubled = digits[:, ::2] * 2  # positions 1,3,5,7,9 from the left are doubled (rightmost of the payload)
    total = NPI_PREFIX_SUM + (doubled // 10 + doubled % 10).sum(1) + digits[:, 1::2].sum(1)
    return (10 - total % 10) % 10


def luhn_valid_npi(npi: np.ndarray) -> np.ndarray:
    """True for 10-digit NPI strings whose last digit is the Luhn check digit."""
    npi = np.asarray(npi, dtype="U10")
    ok = (np.char.str_len(npi) == 10) & np.char.isdigit(npi)
    values = np.where(ok, npi, "0000000000").astype(np.int64)
    return ok & (npi_check_digit(values // 10) == values % 10)


@dataclass(frozen=True)
class Roster:
    npi: np.ndarray           # U10
    taxonomy: np.ndarray      # U10
    tin_of: np.ndarray        # index into tins
    is_main: np.ndarray       # main role (therapist, surgeon, physician) vs assistant / NP / PA
    tins: np.ndarray          # U9
    tin_type: np.ndarray      # group type name per TIN
    tin_name: np.ndarray
    main_start: np.ndarray    # per TIN: first main clinician (roster sorted by tin, main first)
    main_count: np.ndarray
    all_start: np.ndarray
    all_count: np.ndarray

    def tins_of(self, group_type: str) -> np.ndarray:
        return np.flatnonzero(self.tin_type == group_type)

    def pick_group(self, rng: np.random.Generator, group_type: str, n: int) -> np.ndarray:
        return rng.choice(self.tins_of(group_type), size=n)

    def pick_main(self, rng: np.random.Generator, tin: np.ndarray) -> np.ndarray:
        return self.main_start[tin] + (rng.random(tin.size) * self.main_count[tin]).astype(np.int64)

    def pick_any(self, rng: np.random.Generator, tin: np.ndarray) -> np.ndarray:
        return self.all_start[tin] + (rng.random(tin.size) * self.all_count[tin]).astype(np.int64)


def build_roster(seed: int, persons: int) -> Roster:
    rng = np.random.default_rng([seed, 1])
    tin_type, tin_name, sizes_main, sizes_other, taxonomy_main, taxonomy_other = [], [], [], [], [], []
    for group_type, (per, main_tax, other_tax, stem) in GROUP_TYPES.items():
        n = max(3, persons // per)
        tin_type.append(np.full(n, group_type, dtype="U10"))
        tin_name.append(np.char.add(np.char.add(PLACE_NAMES[rng.integers(0, PLACE_NAMES.size, n)], " "),
                                    f"{stem} ") )
        n_main = rng.integers(2, 9, n)
        n_other = rng.integers(0, 3, n) if other_tax else np.zeros(n, dtype=np.int64)
        sizes_main.append(n_main)
        sizes_other.append(n_other)
        taxonomy_main.append(np.array(main_tax)[rng.integers(0, len(main_tax), n_main.sum())])
        taxonomy_other.append(np.array(other_tax or ("",))[rng.integers(0, max(1, len(other_tax)), n_other.sum())])
    tin_type = np.concatenate(tin_type)
    n_tins = tin_type.size
    tin_name = np.char.add(np.concatenate(tin_name), np.char.zfill((np.arange(n_tins) + 1).astype("U6"), 3))
    n_main, n_other = np.concatenate(sizes_main), np.concatenate(sizes_other)
    tins = (100_000_000 + rng.choice(899_999_999, size=n_tins, replace=False)).astype("U9")

    # roster order: by TIN, main clinicians first
    per_tin = n_main + n_other
    tin_of = np.repeat(np.arange(n_tins), per_tin)
    _, rank = expand(per_tin)
    is_main = rank < np.repeat(n_main, per_tin)
    taxonomy = np.empty(tin_of.size, dtype="U10")
    taxonomy[is_main] = np.concatenate(taxonomy_main)
    taxonomy[~is_main] = np.concatenate(taxonomy_other)

    base = 100_000_000 + rng.choice(100_000_000, size=tin_of.size, replace=False)
    npi = (base * 10 + npi_check_digit(base)).astype("U10")
    all_start = np.cumsum(per_tin) - per_tin
    # a group without assistants sends its main clinicians instead
    return Roster(npi=npi, taxonomy=taxonomy, tin_of=tin_of, is_main=is_main, tins=tins, tin_type=tin_type,
                  tin_name=tin_name, main_start=all_start, main_count=n_main, all_start=all_start,
                  all_count=per_tin)

