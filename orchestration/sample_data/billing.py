"""Quality-data codes as practices bill them: mostly the code the clinical data supports, some never
reported, a few mis-reported, a few carrying Category II modifiers (a coding error on a G-code)."""

from __future__ import annotations

import numpy as np

from orchestration.sample_data.frames import lines

UNREPORTED_SHARE = 0.25
MISREPORTED_SHARE = 0.05
CATEGORY_II_MODIFIER_SHARE = 0.03

# A mis-report stays inside the measure and never invents an exclusion (a billed exclusion code is itself
# an exclusion rule, so it would change the clinical truth rather than disagree with it).
MISREPORT = {
    "G2136": ("G2137",), "G2137": ("G2136", "G9943"), "G9943": ("G2137",),
    "G2138": ("G2139",), "G2139": ("G2138", "G9946"), "G9946": ("G2139",),
    "G9945": ("G2136", "G2138"),
    "G8659": ("G8660",), "G8660": ("G8659", "G8662"), "G8662": ("G8660",),
    "M1122": ("G8662",), "G9733": ("G8662",),
}


def quality_code_lines(rng: np.random.Generator, intended: np.ndarray, person: np.ndarray, date: np.ndarray,
                       prov: np.ndarray, dx: np.ndarray, pos: np.ndarray) -> dict:
    """One claim line per reported case (`intended` '' = nothing to report, e.g. a pending case)."""
    n = intended.size
    reported = (intended != "") & (rng.random(n) >= UNREPORTED_SHARE)
    code = intended.astype("U5").copy()
    wrong = reported & (rng.random(n) < MISREPORTED_SHARE)
    u = rng.random(n)
    for right, alternatives in MISREPORT.items():
        sel = wrong & (intended == right)
        code[sel] = np.array(alternatives)[(u[sel] * len(alternatives)).astype(int)]
    mod = np.where(rng.random(n) < CATEGORY_II_MODIFIER_SHARE, np.where(rng.random(n) < 0.5, "8P", "1P"), "")
    keep = np.flatnonzero(reported)
    return lines(keep.size, person=person[keep], date=date[keep], hcpcs=code[keep], prov=prov[keep],
                 dx1=dx[keep], pos=pos[keep], mod1=mod[keep], claim=np.arange(keep.size))
