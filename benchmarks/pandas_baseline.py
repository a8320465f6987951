"""What a user would write instead of the pipeline: measure 459 in plain pandas (read_csv, merges, groupby).

Same input (the landing files), same contract rules for rejected rows, same seeds, its own logic. Scores are
handled as integer thousandths, so improvements are exact (8.2 - 3.2 = 5.0) as the spec requires.
Usage: python benchmarks/pandas_baseline.py LANDING_DIR AS_OF_DATE
"""

from __future__ import annotations

import re

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_common import (  # noqa: E402
    CODE_SHAPES,
    ISO_DATE,
    Measure459Rules,
    aliases,
    delivery_key,
    landing_files,
    load_rules,
    summarize,
)
from orchestration.contract import CONTRACTS, ERROR, MAX_DIAGNOSES  # noqa: E402
from orchestration.settings import SEEDS_DIR  # noqa: E402

DIAGNOSIS_COLUMNS = [f"diagnosis_code_{i}" for i in range(1, MAX_DIAGNOSES + 1)]
CLAIM_COLUMNS = [
    "claim_id", "claim_line_number", "person_id", "payer", "claim_start_date", "claim_end_date",
    "claim_line_start_date", "claim_line_end_date", "hcpcs_code", "diagnosis_code_type", *DIAGNOSIS_COLUMNS,
]
ELIGIBILITY_COLUMNS = ["person_id", "birth_date", "death_date", "enrollment_start_date", "enrollment_end_date",
                       "payer", "plan"]
OBSERVATION_COLUMNS = ["observation_id", "person_id", "observation_date", "source_code", "normalized_code",
                       "result"]
MILLI = 1000  # scores as integer thousandths: DECIMAL(9,3) without binary rounding


def read_table(landing_dir: Path, table: str, columns: list[str]) -> pd.DataFrame:
    """The delivered rows (needed columns only, as text) in delivery order; malformed lines are skipped."""
    wanted = set(columns)
    for name, alias_names in aliases(table).items():
        wanted.update(alias_names)
    frames = []
    for order, path in enumerate(landing_files(landing_dir, table)):
        frame = pd.read_csv(path, dtype=str, usecols=lambda c: c in wanted, on_bad_lines="skip",
                            encoding_errors="replace", keep_default_na=False)
        for name, alias_names in aliases(table).items():
            for alias in alias_names:
                if alias in frame:
                    frame[name] = frame[name].where(frame[name] != "", frame[alias]) if name in frame else frame[alias]
        # a line with invalid UTF-8 is a malformed line for the contract
        text = frame.astype(str).apply(lambda col: col.str.contains("\ufffd", regex=False))
        frame = frame[~text.any(axis=1)]
        frame = frame.reindex(columns=columns, fill_value="")
        frame["file_order"] = order
        frame["delivery"] = delivery_key(path)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns}).assign(file_order=0, delivery="")
    frame = pd.concat(frames, ignore_index=True)
    frame["row_order"] = np.arange(len(frame))
    return frame


def parse_dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(dates, bad): an ISO date, a time part dropped; bad marks filled values that are not dates."""
    stripped = text.str.strip()
    filled = stripped != ""
    iso = stripped.str.fullmatch(ISO_DATE)
    parsed = pd.to_datetime(stripped.str[:10].where(iso), format="%Y-%m-%d", errors="coerce")
    return parsed, filled & parsed.isna()


def valid_rows(frame: pd.DataFrame, table: str) -> pd.Series:
    """Rows the contract loads (docs/data_contract.md, severity per column); a value a warn-level rule finds
    malformed is blanked, as ingestion loads it NULL."""
    ok = pd.Series(True, index=frame.index)
    contract = CONTRACTS[table]
    present = {c: frame[c].str.strip() != "" for c in contract.names if c in frame}
    icd9 = (frame["diagnosis_code_type"].str.strip().str.lower().str.startswith("icd-9")
            if "diagnosis_code_type" in frame else pd.Series(False, index=frame.index))
    for col in contract.columns:
        if col.name not in frame:
            continue
        alone = ~present[col.stands_in_for] if col.stands_in_for in present else pd.Series(True, index=frame.index)
        if col.if_empty == ERROR:
            ok &= ~alone | present[col.name]
        if col.type == "DATE":
            frame[col.name], bad = parse_dates(frame[col.name])
        elif col.type == "INTEGER":
            number = pd.to_numeric(frame[col.name].str.strip(), errors="coerce")
            bad = present[col.name] & ~(number.notna() & (number % 1 == 0))
            frame[col.name] = number.where(~bad)
        elif col.code_shape:
            value = frame[col.name].str.strip()
            bad = present[col.name] & ~value.str.fullmatch(CODE_SHAPES[col.code_shape][0])
            if col.code_shape == "icd10":
                bad &= ~icd9
            frame[col.name] = frame[col.name].where(~bad, "")
        else:
            continue
        if col.if_malformed == ERROR:
            ok &= ~(bad & alone)
    return ok


def load_claims(landing_dir: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    claims = read_table(landing_dir, "medical_claim", CLAIM_COLUMNS)
    claims = claims[valid_rows(claims, "medical_claim")]
    claims = claims.sort_values(["file_order", "row_order"])
    claims = claims.drop_duplicates(["claim_id", "claim_line_number"], keep="last")
    claims["service_date"] = claims["claim_line_start_date"].fillna(claims["claim_start_date"])
    claims["hcpcs_code"] = claims["hcpcs_code"].str.strip().str.upper().replace("", None)
    return claims[claims["service_date"] <= as_of]


def load_birth_dates(landing_dir: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    spans = read_table(landing_dir, "eligibility", ELIGIBILITY_COLUMNS)
    spans = spans[valid_rows(spans, "eligibility")]
    spans = spans[spans["enrollment_start_date"].isna() | (spans["enrollment_start_date"] <= as_of)]
    spans = spans.sort_values(["file_order", "row_order"])
    spans = spans.drop_duplicates(["person_id", "enrollment_start_date", "payer", "plan"], keep="last")
    spans = spans.sort_values(["enrollment_start_date", "enrollment_end_date", "birth_date"], na_position="first")
    return spans.drop_duplicates("person_id", keep="last")[["person_id", "birth_date"]]


def load_pain_scores(landing_dir: Path, as_of: pd.Timestamp, rules: Measure459Rules) -> pd.DataFrame:
    obs = read_table(landing_dir, "observation", OBSERVATION_COLUMNS)
    obs = obs[valid_rows(obs, "observation")]
    normalized = obs["normalized_code"].str.strip()
    obs["code"] = normalized.where(normalized != "", obs["source_code"]).str.strip().str.upper()
    ranges = rules.instruments.assign(code=rules.instruments["code"].str.upper())[["code", "min_score", "max_score"]]
    obs = obs.merge(ranges, on="code", how="left")
    obs["score"] = pd.to_numeric(obs["result"].str.strip(), errors="coerce")
    has_instrument = obs["min_score"].notna()
    in_range = obs["score"].between(obs["min_score"], obs["max_score"])
    obs = obs[~has_instrument | in_range | (obs["result"].str.strip() == "")]  # an empty result loads (warn)
    obs = obs[obs["observation_date"] <= as_of]
    with_id = obs[obs["observation_id"].str.strip() != ""].sort_values(["file_order", "row_order"])
    with_id = with_id.drop_duplicates("observation_id", keep="last")
    obs = pd.concat([with_id, obs[obs["observation_id"].str.strip() == ""]])
    pain = obs[obs["code"].isin(rules.instrument_codes) & obs["score"].notna()].copy()
    pain["score_milli"] = (pain["score"] * MILLI).round().astype("int64")
    return pain[["person_id", "observation_date", "score_milli"]]


def add_offset(dates: pd.Series, n: int, unit: str) -> pd.Series:
    # pandas month offsets clamp to the month's end, as the spec requires
    return dates + (pd.DateOffset(months=n) if unit == "month" else pd.Timedelta(days=n))


def build_cases(claims: pd.DataFrame, births: pd.DataFrame, rules: Measure459Rules) -> pd.DataFrame:
    strata = pd.DataFrame(
        [{"code": c, "stratum": r.stratum, "priority": r.priority}
         for r in rules.strata.values() for c in r.procedure_codes]
    )
    procedures = claims[["person_id", "service_date", "hcpcs_code"]].merge(strata, left_on="hcpcs_code",
                                                                           right_on="code")
    procedures = procedures.sort_values("priority").drop_duplicates(["person_id", "service_date"])
    cases = procedures.rename(columns={"service_date": "index_date"})[["person_id", "stratum", "index_date"]]
    cases = cases.merge(births, on="person_id")
    birth, index = cases["birth_date"], cases["index_date"]
    before_birthday = (index.dt.month * 100 + index.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    cases["age"] = index.dt.year - birth.dt.year - before_birthday.astype(int)
    parts = []
    for stratum, rule in rules.strata.items():
        part = cases[(cases["stratum"] == stratum) & (cases["age"] >= rule.min_age)].copy()
        part["window_start"] = add_offset(part["index_date"], rule.window_start.n, rule.window_start.unit)
        part["window_end"] = add_offset(part["index_date"], rule.window_end.n, rule.window_end.unit)
        part["nominal_date"] = add_offset(part["index_date"], rule.nominal.n, rule.nominal.unit)
        part["pre_window_start"] = add_offset(part["index_date"], -rule.pre_window_months, "month")
        part["lookback_start"] = add_offset(part["index_date"], -rule.exclusion_lookback_months, "month")
        parts.append(part)
    return pd.concat(parts, ignore_index=True).drop(columns=["birth_date", "age"])


def find_exclusions(cases: pd.DataFrame, claims: pd.DataFrame, rules: Measure459Rules) -> pd.Series:
    keys = ["person_id", "stratum", "index_date"]
    case_claims = claims[claims["person_id"].isin(cases["person_id"])]
    diagnoses = case_claims.melt(id_vars=["person_id", "service_date"], value_vars=DIAGNOSIS_COLUMNS,
                                 value_name="diagnosis_code")
    diagnoses["diagnosis_code"] = diagnoses["diagnosis_code"].str.strip().str.upper().str.replace(".", "")
    diagnoses = diagnoses[diagnoses["diagnosis_code"].isin(rules.exclusion_diagnoses)]
    by_diagnosis = cases.merge(diagnoses, on="person_id")
    by_diagnosis = by_diagnosis[by_diagnosis["service_date"].between(by_diagnosis["lookback_start"],
                                                                      by_diagnosis["index_date"])]
    reported = case_claims[case_claims["hcpcs_code"] == rules.excluded_code][["person_id", "service_date"]]
    by_code = cases.merge(reported, on="person_id")
    by_code = by_code[by_code["service_date"].between(by_code["index_date"], by_code["window_end"])]
    excluded = pd.concat([by_diagnosis[keys], by_code[keys]]).drop_duplicates()
    flagged = cases[keys].merge(excluded.assign(excluded=True), on=keys, how="left")
    return flagged["excluded"].fillna(False).astype(bool).to_numpy()


def pick_scores(cases: pd.DataFrame, pain: pd.DataFrame) -> pd.DataFrame:
    keys = ["person_id", "stratum", "index_date"]
    joined = cases.merge(pain, on="person_id")
    pre = joined[joined["observation_date"].between(joined["pre_window_start"], joined["index_date"])]
    # the latest pre-op score; on one day the lowest (least favourable)
    pre = pre.sort_values(["observation_date", "score_milli"], ascending=[False, True]).drop_duplicates(keys)
    post = joined[joined["observation_date"].between(joined["window_start"], joined["window_end"])].copy()
    post["distance"] = (post["observation_date"] - post["nominal_date"]).abs()
    # closest to the nominal point; a tie goes to the later; on one day the highest (least favourable)
    post = post.sort_values(["distance", "observation_date", "score_milli"], ascending=[True, False, False])
    post = post.drop_duplicates(keys)
    out = cases.merge(pre[keys + ["score_milli", "observation_date"]].rename(
        columns={"score_milli": "pre_milli", "observation_date": "pre_score_date"}), on=keys, how="left")
    return out.merge(post[keys + ["score_milli", "observation_date"]].rename(
        columns={"score_milli": "post_milli", "observation_date": "post_score_date"}), on=keys, how="left")


def classify(cases: pd.DataFrame, rules: Measure459Rules, as_of: pd.Timestamp) -> pd.DataFrame:
    params = pd.DataFrame(
        [{"stratum": s, "post_max": int(r.post_max_met * MILLI), "improvement_min": int(r.improvement_min_met * MILLI),
          "met": r.met_code, "not_met": r.not_met_code, "not_measured": r.not_measured_code,
          "excluded_code": r.excluded_code} for s, r in rules.strata.items()]
    )
    cases = cases.merge(params, on="stratum")
    improvement = cases["pre_milli"] - cases["post_milli"]
    no_post = cases["post_milli"].isna()
    conditions = [
        cases["excluded"],
        no_post & (as_of < cases["window_end"]),
        no_post,
        cases["post_milli"] <= cases["post_max"],
        improvement >= cases["improvement_min"],
    ]
    cases["status"] = np.select(conditions, ["excluded", "pending", "not_measured", "met", "met"], "not_met")
    code_of = {"excluded": "excluded_code", "met": "met", "not_met": "not_met", "not_measured": "not_measured"}
    cases["qdc_code"] = None
    for status, column in code_of.items():
        hit = cases["status"] == status
        cases.loc[hit, "qdc_code"] = cases.loc[hit, column]
    cases["measure_id"] = "459"
    cases["pre_score"] = cases["pre_milli"] / MILLI
    cases["post_score"] = cases["post_milli"] / MILLI
    cases["improvement"] = improvement / MILLI
    cases["performance_year"] = cases["window_end"].dt.year
    return cases[["measure_id", "person_id", "stratum", "index_date", "window_start", "window_end", "pre_score",
                  "pre_score_date", "post_score", "post_score_date", "improvement", "status", "qdc_code",
                  "performance_year"]]


def code_by_payer(claims: pd.DataFrame, seeds_dir: Path) -> pd.DataFrame:
    payer = claims["payer"].str.strip()
    seed = seeds_dir / "payer_patterns.csv"
    if seed.exists():
        patterns = pd.read_csv(seed, dtype={"priority": int, "pattern": str, "payer": str}).sort_values("priority")
        spellings = payer.dropna().str.lower().unique()
        names = {s: next((p.payer for p in patterns.itertuples() if re.search(p.pattern, s)), None) for s in spellings}
        payer = payer.str.lower().map(names).fillna(payer)
    frame = pd.DataFrame({"hcpcs_code": claims["hcpcs_code"], "payer": payer.replace("", None),
                          "year": claims["service_date"].dt.year})
    return frame.groupby(["hcpcs_code", "payer", "year"], dropna=False).size().rename("claim_lines").reset_index()


def compute(landing_dir: Path | str, as_of_date: date | str, seeds_dir: Path = SEEDS_DIR) -> dict:
    landing_dir = Path(landing_dir)
    as_of = pd.Timestamp(str(as_of_date))
    rules = load_rules(seeds_dir)
    timings = {}
    started = time.perf_counter()
    claims = load_claims(landing_dir, as_of)
    births = load_birth_dates(landing_dir, as_of)
    pain = load_pain_scores(landing_dir, as_of, rules)
    timings["load"] = time.perf_counter() - started
    started = time.perf_counter()
    cases = build_cases(claims, births, rules)
    cases["excluded"] = find_exclusions(cases, claims, rules)
    cases = classify(pick_scores(cases, pain), rules, as_of)
    cases = cases.sort_values(["stratum", "index_date", "person_id"], ignore_index=True)
    timings["measure_459"] = time.perf_counter() - started
    started = time.perf_counter()
    by_payer = code_by_payer(claims, seeds_dir)
    timings["code_by_payer"] = time.perf_counter() - started
    return {"summary": summarize(cases), "cases": cases, "by_payer": by_payer, "claim_lines": len(claims),
            "seconds": timings}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(__doc__.splitlines()[-1], file=sys.stderr)
        return 2
    result = compute(Path(args[0]), args[1])
    for key, n in sorted(result["summary"].items()):
        print(" ".join(key), n)
    print({k: round(v, 2) for k, v in result["seconds"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
