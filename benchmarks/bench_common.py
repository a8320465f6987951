"""What the two independent measure-459 baselines share: the landing files, the rules read from the seeds,
and the summary both return.

The baselines share DATA with the dbt implementation (value sets, windows, thresholds and codes come from the
same seeds) but none of its logic: they exist to cross-check it and to give the benchmark a floor.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from orchestration.contract import CONTRACTS, FILE_FORMATS
# The baselines skip exactly the rows ingestion quarantines and key deliveries as ingestion does: same rules.
from orchestration.ingest.discovery import delivery_key  # noqa: F401  (re-exported to the baselines)
from orchestration.ingest.rules import CODE_SHAPES, HCPCS_SHAPE, ICD10_SHAPE, ISO_DATE  # noqa: F401
from orchestration.settings import SEEDS_DIR

# the contract's CSV formats, plain or compressed (DuckDB's read_csv decompresses by the extension)
CSV_SUFFIXES = tuple(f for f in FILE_FORMATS if f.startswith(".csv"))
MEASURE_ID = "459"
DISCECTOMY, FUSION = "lumbarDiscectomy", "lumbarFusion"
SUMMARY_KEYS = ("measure_id", "stratum", "status", "qdc_code")


@dataclass(frozen=True)
class Offset:
    n: int
    unit: str  # day | month


@dataclass(frozen=True)
class StratumRule:
    stratum: str
    priority: int  # on one day, the stratum with the lowest priority takes the case (fusion over decompression)
    procedure_codes: frozenset[str]
    pre_window_months: int
    window_start: Offset
    window_end: Offset
    nominal: Offset
    post_max_met: Decimal
    improvement_min_met: Decimal
    met_code: str
    not_met_code: str
    not_measured_code: str
    excluded_code: str
    min_age: int
    exclusion_lookback_months: int


@dataclass(frozen=True)
class Measure459Rules:
    strata: dict[str, StratumRule]
    instrument: str
    exclusion_diagnoses: frozenset[str]
    # every instrument's codes and ranges: the contract quarantines any out-of-range score, not only 459's
    instruments: pd.DataFrame

    @property
    def instrument_codes(self) -> list[str]:
        frame = self.instruments
        return sorted(frame.loc[frame["instrument"] == self.instrument, "code"].str.upper())

    @property
    def excluded_code(self) -> str:
        return next(iter(self.strata.values())).excluded_code


def _read_seed(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    path = seeds_dir / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"seed {path} is missing: the baselines read the measure-459 value sets from it")
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def load_rules(seeds_dir: Path = SEEDS_DIR) -> Measure459Rules:
    # The baselines apply one specification: the current one (the open-ended rows); they do not model
    # performance years (the pipeline does: docs/measures.md, "Performance years").
    params = [r for r in _read_seed(seeds_dir, "pairs_parameters")
              if r["measure_id"] == MEASURE_ID and not r["performance_year_to"]]
    value_sets = [r for r in _read_seed(seeds_dir, "procedure_value_sets") if not r["performance_year_to"]]
    exclusion_rows = _read_seed(seeds_dir, "exclusion_diagnoses_lumbar")
    strata = {}
    for row in params:
        codes = frozenset(
            v["code"].strip().upper() for v in value_sets if v["value_set"] == row["procedure_value_set"]
        )
        strata[row["stratum"]] = StratumRule(
            stratum=row["stratum"],
            priority=int(row["stratum_priority"]),
            procedure_codes=codes,
            pre_window_months=int(row["pre_window_months"]),
            window_start=Offset(int(row["followup_start_offset"]), row["followup_start_unit"]),
            window_end=Offset(int(row["followup_end_offset"]), row["followup_end_unit"]),
            nominal=Offset(int(row["nominal_offset"]), row["nominal_unit"]),
            post_max_met=Decimal(row["met_post_max"]),
            improvement_min_met=Decimal(row["met_improvement_min"]),
            met_code=row["code_met"],
            not_met_code=row["code_not_met"],
            not_measured_code=row["code_not_measured"],
            excluded_code=row["code_excluded"],
            min_age=int(row["min_age_years"]),
            exclusion_lookback_months=int(row["exclusion_lookback_months"]),
        )
    if set(strata) != {DISCECTOMY, FUSION}:
        raise ValueError(f"pairs_parameters must hold the 459 strata {DISCECTOMY}, {FUSION}; found {sorted(strata)}")
    instruments = {r["instrument"] for r in params if r.get("instrument")}
    if len(instruments) != 1:
        raise ValueError(f"measure 459 strata must share one instrument, found {sorted(instruments)}")
    exclusion_sets = {r["exclusion_value_set"] for r in params}
    exclusions = frozenset(
        r["diagnosis_code"].strip().upper().replace(".", "") for r in exclusion_rows if r["value_set"] in exclusion_sets
    )
    instrument_table = pd.read_csv(seeds_dir / "instruments.csv", dtype={"code": str})
    return Measure459Rules(strata, instruments.pop(), exclusions, instrument_table)


def landing_files(landing_dir: Path, table: str) -> list[Path]:
    """CSV deliveries of a table, plain or compressed, oldest delivery first (later deliveries win on duplicate
    keys)."""
    landing_dir = Path(landing_dir)
    files = []
    for suffix in CSV_SUFFIXES:
        files += list((landing_dir / table).glob(f"*{suffix}")) if (landing_dir / table).is_dir() else []
        flat = landing_dir / f"{table}{suffix}"
        if flat.exists():
            files.append(flat)
    return sorted((f for f in files if f.stat().st_size > 0), key=lambda f: (delivery_key(f), f.name))


def required_columns(table: str) -> list[str]:
    return CONTRACTS[table].required


def columns_of_type(table: str, prefix: str) -> list[str]:
    return [c.name for c in CONTRACTS[table].columns if c.type.startswith(prefix)]


def aliases(table: str) -> dict[str, tuple[str, ...]]:
    return {c.name: c.aliases for c in CONTRACTS[table].columns if c.aliases}


def summarize(cases: pd.DataFrame) -> dict[tuple[str, str, str, str], int]:
    """Cases by measure, stratum, status and code (pending cases have no code: key '')."""
    if cases.empty:
        return {}
    keys = cases[list(SUMMARY_KEYS)].astype("object").fillna("")
    counts = keys.value_counts()
    return {tuple(str(v) for v in k): int(n) for k, n in counts.items()}


def by_payer_dict(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    keys = frame[["hcpcs_code", "payer"]].astype("object").fillna("")
    return {(str(c), str(p)): int(n) for c, p, n in zip(keys["hcpcs_code"], keys["payer"], frame["claim_lines"])}


def diff_counts(left: dict, right: dict, left_name: str, right_name: str) -> list[str]:
    """Readable lines for every key whose counts differ (empty when they agree)."""
    return [
        f"{key}: {left_name}={left.get(key, 0)} {right_name}={right.get(key, 0)}"
        for key in sorted(set(left) | set(right), key=str)
        if left.get(key, 0) != right.get(key, 0)
    ]
