"""Column-oriented building blocks: every generator returns claim lines and observations as dicts of numpy
arrays of equal length, so that a chunk of persons is generated without a Python loop over rows."""

from __future__ import annotations

import numpy as np

LINE_DEFAULTS = {
    "person": np.int64, "date": "datetime64[D]", "hcpcs": "U8", "units": np.int16, "mod1": "U2", "mod2": "U2",
    "dx1": "U8", "dx2": "U8", "dx3": "U8", "dx4": "U8", "prov": np.int32, "pos": "U2", "claim": np.int64,
}
OBS_DEFAULTS = {"person": np.int64, "date": "datetime64[D]", "code": "U20", "tenths": np.int32, "decimals": np.int8}


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent index and rank within parent for `counts[i]` children of each parent i."""
    counts = np.asarray(counts, dtype=np.int64)
    parent = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(parent.size) - np.repeat(starts, counts)


def cumsum_within(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarted for each parent (values laid out as expand(counts) lays them)."""
    total = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    before = np.concatenate([[0], total])[starts]
    return total - np.repeat(before, counts)


def _frame(defaults: dict, n: int, cols: dict) -> dict[str, np.ndarray]:
    out = {}
    for name, dtype in defaults.items():
        value = cols.pop(name, None)
        if value is None:
            out[name] = np.ones(n, dtype=dtype) if name == "units" else np.zeros(n, dtype=dtype)
        else:
            out[name] = np.broadcast_to(np.asarray(value).astype(dtype), (n,)).copy()
    if cols:
        raise KeyError(f"unknown columns {sorted(cols)}")
    return out


def lines(n: int, **cols) -> dict[str, np.ndarray]:
    """Claim lines; `claim` groups lines into claims (local numbering, made unique by concat_lines)."""
    return _frame(LINE_DEFAULTS, n, cols)


def observations(n: int, **cols) -> dict[str, np.ndarray]:
    """Scores in tenths (exact decimals); decimals = 1 for scales reported with one decimal place."""
    return _frame(OBS_DEFAULTS, n, cols)


def concat(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}


def concat_lines(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    offset = 0
    shifted = []
    for f in frames:
        g = dict(f)
        g["claim"] = f["claim"] + offset
        offset += int(f["claim"].max()) + 1 if f["claim"].size else 0
        shifted.append(g)
    return concat(shifted)


def take(frame: dict[str, np.ndarray], mask_or_index) -> dict[str, np.ndarray]:
    return {k: v[mask_or_index] for k, v in frame.items()}


def pick(rng: np.random.Generator, values: np.ndarray, n: int, p=None) -> np.ndarray:
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return values[rng.choice(values.size, size=n, p=p)]
