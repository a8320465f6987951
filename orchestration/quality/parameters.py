"""Run-time inputs of the suites that come from reference data (seeds, the ICD-10-CM code set)."""

from __future__ import annotations

import functools

import duckdb
import pandas as pd

from orchestration.settings import SEEDS_DIR


def _seed(con: duckdb.DuckDBPyConnection, name: str) -> duckdb.DuckDBPyRelation | None:
    path = SEEDS_DIR / f"{name}.csv"
    if not path.exists():
        return None
    return con.read_csv(str(path), all_varchar=True)


def place_of_service_codes() -> list[str]:
    with duckdb.connect() as con:
        return [r[0] for r in _seed(con, "place_of_service").select("place_of_service_code").fetchall()]


@functools.cache
def billable_icd10_cm_codes() -> pd.DataFrame:
    """Billable (leaf) ICD-10-CM codes without the dot, as staging stores them."""
    import simple_icd_10_cm as cm

    codes = pd.Series(cm.get_all_codes(with_dots=False), name="code")
    return codes[codes.map(cm.is_leaf)].to_frame().reset_index(drop=True)


def allowed_case_outcomes(defaults: list[str]) -> list[str]:
    """measure|stratum|status|code combinations from the measure seeds when they exist, else the suite default."""
    with duckdb.connect() as con:
        family, rehab = _seed(con, "measure_parameters"), _seed(con, "measure_220_parameters")
        if family is None:
            return defaults
        outcomes = _outcomes(con, family)
        if rehab is not None:
            outcomes += _outcomes(con, rehab)
        else:
            outcomes += [o for o in defaults if o.startswith("220|")]
        return sorted(set(outcomes))


# (status, seed column holding its code) in measure_parameters.csv and measure_220_parameters.csv.
_CODE_COLUMNS = (
    ("met", "code_met"),
    ("not_met", "code_not_met"),
    ("not_measured", "code_not_measured"),
    ("excluded", "code_excluded"),
    ("excluded", "degenerative_condition_code"),
    ("excluded", "unable_to_complete_code"),
)


def _outcomes(con: duckdb.DuckDBPyConnection, seed: duckdb.DuckDBPyRelation) -> list[str]:
    columns = set(seed.columns)
    stratum = "stratum" if "stratum" in columns else "'overall'"
    parts = [
        f"select measure_id, {stratum}, '{status}', {col} from seed where {col} is not null"
        for status, col in _CODE_COLUMNS
        if col in columns
    ]
    parts.append(f"select measure_id, {stratum}, 'pending', '' from seed")
    con.register("seed", seed)
    rows = con.sql(" union ".join(parts)).fetchall()
    con.unregister("seed")
    return [f"{m}|{s}|{status}|{code}" for m, s, status, code in rows]
