"""Vectorized calendar arithmetic on numpy datetime64[D] arrays, with the same conventions as the pipeline:
month arithmetic clamps to the month's end, age is in completed years."""

from __future__ import annotations

import numpy as np

DAY = np.timedelta64(1, "D")


def add_months(d: np.ndarray, n) -> np.ndarray:
    month = d.astype("datetime64[M]")
    day = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(n, dtype=np.int64)
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day, month_len - 1)


def month_and_day(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    month = d.astype("datetime64[M]")
    return month.astype(np.int64) % 12, (d - month.astype("datetime64[D]")).astype(np.int64)


def age_years(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    years = on.astype("datetime64[Y]").astype(np.int64) - birth.astype("datetime64[Y]").astype(np.int64)
    bm, bd = month_and_day(birth)
    om, od = month_and_day(on)
    before_birthday = (om < bm) | ((om == bm) & (od < bd))
    return years - before_birthday


def days(n) -> np.ndarray:
    return np.asarray(n, dtype=np.int64).astype("timedelta64[D]")
