"""Malformed input on demand (--defect-rate): the kinds of damage real deliveries carry, so that the loader's
quarantine and checks have something to catch. Each kind appears on at least MIN_PER_KIND rows of every
table chunk when the rate is positive; rows of different kinds are disjoint."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.sample_data.writer import csv_bytes

MIN_PER_KIND = 2
BAD_DATES = np.array(["2025-02-30", "2024-13-01", "31/12/2024", "not a date", "20241301"])
NON_NUMERIC = np.array(["n/a", "seven", "7..5", "unable", "4,5"])
OUT_OF_RANGE = np.array(["-3", "11.5", "140", "999", "-20"])
UNKNOWN_HCPCS = np.array(["ZZ999", "9999X", "G99999"])
UNKNOWN_DX = np.array(["XX999", "M99999Z", "Q"])
STRAY_FIELD = b",EXTRA-FIELD"
# a Latin-1 e-acute in a UTF-8 file: the encoder writes it as UTF-8 and the bytes are swapped afterwards, all but the
# first (`Soci\xc3\xa9t\xe9 ...`): the file then holds a UTF-8 character, so it is a damaged UTF-8 file whose line is
# quarantined (invalid_utf8), not a Windows-1252 file, which the reader would read whole (docs/data_contract.md)
NON_UTF8_TEXT, UTF8_E_ACUTE, LATIN1_E_ACUTE = "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale", b"\xc3\xa9", b"\xe9"
_LATIN1_SOCI, _UTF8_SOCI = b"Soci" + LATIN1_E_ACUTE, b"Soci" + UTF8_E_ACUTE

KINDS = {
    "medical_claim": {"bad_date": "claim_start_date", "unknown_code": "hcpcs_code", "unknown_dx": "diagnosis_code_1",
                      "missing_id": "person_id", "non_numeric": "paid_amount", "duplicate": None,
                      "stray_column": None, "non_utf8": "payer"},
    "observation": {"bad_date": "observation_date", "non_numeric": "result", "out_of_range": "result",
                    "missing_id": "person_id", "duplicate": None, "stray_column": None,
                    "non_utf8": "source_description"},
    "eligibility": {"bad_date": "birth_date", "missing_id": "person_id", "duplicate": None, "stray_column": None,
                    "non_utf8": "payer"},
}
VALUES = {"bad_date": BAD_DATES, "non_numeric": NON_NUMERIC, "out_of_range": OUT_OF_RANGE,
          "unknown_code": UNKNOWN_HCPCS, "unknown_dx": UNKNOWN_DX}
CSV_ONLY = ("stray_column", "non_utf8")


def _replace(table: pa.Table, column: str, rows: np.ndarray, values) -> pa.Table:
    n = table.num_rows
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    new = np.full(n, "", dtype=object)
    new[rows] = values
    col = pc.if_else(pa.array(mask), pa.array(new, pa.string()), table[column])
    return table.set_column(table.schema.get_field_index(column), column, col)


def inject(rng, name: str, table: pa.Table, months: np.ndarray, rate: float, fmt: str):
    """Damaged table, its months, and raw CSV byte blocks [(bytes, month, rows)] to append as they are."""
    kinds = [k for k in KINDS[name] if fmt != "parquet" or k not in CSV_ONLY]
    n = table.num_rows
    if rate <= 0 or n == 0:
        return table, months, []
    per_kind = np.maximum(MIN_PER_KIND, rng.binomial(n, rate / len(kinds), len(kinds)))
    per_kind = np.minimum(per_kind, n // (2 * len(kinds)))
    rows = rng.permutation(n)
    cut = np.r_[0, np.cumsum(per_kind)]
    chosen = {k: np.sort(rows[cut[i]:cut[i + 1]]) for i, k in enumerate(kinds)}
    raw = []
    for kind, idx in chosen.items():
        column = KINDS[name][kind]
        if kind in VALUES:
            table = _replace(table, column, idx, VALUES[kind][rng.integers(0, VALUES[kind].size, idx.size)])
        elif kind == "missing_id":
            table = _replace(table, column, idx, None)
    extra = []
    for kind in ("duplicate", "stray_column", "non_utf8"):
        idx = chosen.get(kind)
        if idx is None:
            continue
        part = table.take(pa.array(idx))
        if kind == "duplicate":
            extra.append((part, months[idx]))
            continue
        if kind == "non_utf8":
            part = _replace(part, KINDS[name][kind], np.arange(idx.size), NON_UTF8_TEXT)
        for m in np.unique(months[idx]):
            sub = part.filter(pa.array(months[idx] == m))
            data = csv_bytes(sub, header=False)
            data = (data.replace(b"\n", STRAY_FIELD + b"\n") if kind == "stray_column"
                    else data.replace(UTF8_E_ACUTE, LATIN1_E_ACUTE).replace(_LATIN1_SOCI, _UTF8_SOCI))
            raw.append((data, int(m), sub.num_rows))
    keep = np.ones(n, dtype=bool)
    for kind in CSV_ONLY:
        if kind in chosen:
            keep[chosen[kind]] = False
    table, months = table.filter(pa.array(keep)), months[keep]
    for part, m in extra:
        table, months = pa.concat_tables([table, part]), np.concatenate([months, m])
    return table, months, raw
