"""The known truth behind measure 220's functional-status change in the sample data.

The change from intake to discharge FS of every generated episode is drawn as
    change = sum(TRUE_FS_CHANGE_COEFFICIENTS[term] * feature[term]) + Normal(0, TRUE_FS_CHANGE_NOISE_SD)
(then rounded to whole points, discharge FS clipped to 0-100). The features are computed from the generated
claims exactly as the open risk model defines them (docs/sample_data.md), so a model fitted on the sample
must recover these coefficients within sampling error.
"""

from __future__ import annotations

import numpy as np

from orchestration.sample_data import codes
from orchestration.sample_data.dates import add_months, age_years

TRUE_FS_CHANGE_COEFFICIENTS: dict[str, float] = {
    "intercept": 30.0,
    "intake_fs": -0.35,
    "age_band_45_64": -1.5,
    "age_band_65_74": -2.5,
    "age_band_75_plus": -4.0,
    "sex_male": 0.8,
    "acuity_22_90": -1.5,
    "acuity_over_90": -3.5,
    "prior_lumbar_surgery": -3.0,
    "comorbidity_count": -1.2,
    "payer_medicare": -1.0,
    "payer_medicare_advantage": -0.8,
    "payer_medicaid": -2.0,
    "payer_self_pay": -1.5,
}
TRUE_FS_CHANGE_NOISE_SD: float = 7.0

LUMBAR_SURGERY_CPT = np.concatenate([codes.DECOMPRESSION_CPT, list(codes.DECOMPRESSION_ADDON.values()),
                                     codes.FUSION_CPT, list(codes.FUSION_ADDON.values())])


def comorbidity_bits(line_dx: list[np.ndarray]) -> np.ndarray:
    """Bit c set when any of the line's diagnoses falls in comorbidity category c."""
    bits = np.zeros(line_dx[0].size, dtype=np.int64)
    for c, options in enumerate(codes.COMORBIDITY_DX.values()):
        hit = np.zeros(bits.size, dtype=bool)
        for dx in line_dx:
            hit |= np.isin(dx, options)
        bits |= hit.astype(np.int64) << c
    return bits


def episode_features(ep_person: np.ndarray, ep_start: np.ndarray, ep_intake: np.ndarray, birth: np.ndarray,
                     sex: np.ndarray, payer_type: np.ndarray, claim_lines: dict) -> dict[str, np.ndarray]:
    """Model features of each episode from the claims (birth/sex/payer_type indexed like ep_person).

    claim_lines: person, date, hcpcs, dx1..dx4 of every line of the episodes' persons."""
    lp, ld = claim_lines["person"], claim_lines["date"]
    dx = [claim_lines[f"dx{i}"] for i in range(1, 5)]
    low_back = np.zeros(lp.size, dtype=bool)
    for d in dx:
        low_back |= np.isin(d, codes.LOW_BACK_DX)
    # episodes per person are few: match lines to episodes through a sorted person index
    order = np.argsort(lp, kind="stable")
    lp_s = lp[order]
    lo, hi = np.searchsorted(lp_s, ep_person, "left"), np.searchsorted(lp_s, ep_person, "right")
    counts = hi - lo
    ep = np.repeat(np.arange(ep_person.size), counts)
    line = order[np.repeat(lo, counts) + (np.arange(ep.size) - np.repeat(np.cumsum(counts) - counts, counts))]
    date, start = ld[line], ep_start[ep]

    first_low_back = np.full(ep_person.size, np.datetime64("9999-12-31"), dtype="datetime64[D]")
    lb = low_back[line]
    np.minimum.at(first_low_back, ep[lb], date[lb])
    acuity_days = (ep_start - first_low_back).astype(np.int64)

    surgery = np.isin(claim_lines["hcpcs"][line], LUMBAR_SURGERY_CPT) & (date < start) & (
        date >= add_months(start, -24))
    prior_surgery = np.zeros(ep_person.size, dtype=bool)
    np.logical_or.at(prior_surgery, ep[surgery], True)

    in_year = (date <= start) & (date >= add_months(start, -12))
    bits = np.zeros(ep_person.size, dtype=np.int64)
    np.bitwise_or.at(bits, ep[in_year], comorbidity_bits([d[line][in_year] for d in dx]))
    comorbidities = sum((bits >> c) & 1 for c in range(len(codes.COMORBIDITY_DX)))

    age = age_years(birth, ep_start)
    return {
        "intercept": np.ones(ep_person.size),
        "intake_fs": ep_intake.astype(np.float64),
        "age_band_45_64": ((age >= 45) & (age <= 64)).astype(float),
        "age_band_65_74": ((age >= 65) & (age <= 74)).astype(float),
        "age_band_75_plus": (age >= 75).astype(float),
        "sex_male": (sex == "male").astype(float),
        "acuity_22_90": ((acuity_days >= 22) & (acuity_days <= 90)).astype(float),
        "acuity_over_90": (acuity_days > 90).astype(float),
        "prior_lumbar_surgery": prior_surgery.astype(float),
        "comorbidity_count": comorbidities.astype(float),
        "payer_medicare": (payer_type == "medicare").astype(float),
        "payer_medicare_advantage": (payer_type == "medicare_advantage").astype(float),
        "payer_medicaid": (payer_type == "medicaid").astype(float),
        "payer_self_pay": (payer_type == "self_pay").astype(float),
    }


def expected_change(features: dict[str, np.ndarray]) -> np.ndarray:
    return sum(TRUE_FS_CHANGE_COEFFICIENTS[t] * features[t] for t in TRUE_FS_CHANGE_COEFFICIENTS)
