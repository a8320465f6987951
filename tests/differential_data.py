"""Adversarial raw Tuva-format files for the differential test (tests/test_differential_measures.py): tens to a few
hundred persons per seed, dense in the boundaries of shared/spec/measures.md - window edges (day +42/+140, +9/+15
calendar months, month-end clamping), an as-of date on a window end, scores on the 3.0 / 5.0 / 22 / 30 edges and
in decimals (8.2 - 3.2), several scores on one day, exclusion diagnoses 12 months before / on / after the
procedure, fusion and decompression on the same and on consecutive days, 18th / 14th birthdays (29 February too),
data dated after the as-of date, years CMS does not define a measure or stratum, and corrected claim lines in a
later delivery. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
from dateutil.relativedelta import relativedelta

from orchestration.ingest.loader import load_delivery
from reference_measures import DECOMPRESSION, FUSION, INITIAL_EVALUATION

# the open risk model's version the test writes and the reference applies (intercept and intake FS; the other
# terms count 0)
OPEN_MODEL = {"intercept": 12.5, "intake_fs": -0.1234}
TINS = ("111111111", "222222222", None)
OUT_OF_SCOPE_TIN = "333333333"  # never has an intake FS: its episodes are out of measure 220's scope
BACK_PAIN = ("72514-3", "38214-3")
LEG_PAIN, ODI, FS, PRED = "LEG-PAIN-NRS", "97909-6", "FOTO-LUMBAR-FS", "FOTO-LUMBAR-FS-PRED"
PAIN_PRE = ("8.2", "8", "9", "10", "5", "7.9", "8.001", "6")
PAIN_POST = ("3.0", "3", "3.001", "3.2", "3.3", "2.9", "4.0", "5", "0", "7", "3.1")
ODI_PRE = ("52", "60", "51.9", "100", "30", "52.5")
ODI_POST = ("22", "22.0", "22.001", "22.5", "30", "0", "40")
EXCLUSION_DX = ("C79.51", "C41.2", "C72.1", "S32.010A", "S32009B", "M48.56XA", "M46.26", "M46.47", "M41.26",
                "M41.126", "Q76.3", "q67.5", "C70.1")
NEAR_MISS_DX = ("C41.9", "S32010D", "M48.56XD", "M46.24", "M41.24", "M4657", "S3210XA")
LOW_BACK_DX = ("M54.50", "m54.59", "M51.26", "M51.37", "M47.816", "M48.061", "M54.16", "S33.5XXA", "S39.012A",
               "M43.16", "M54.41", "M54.30")
OTHER_DX = ("J45.909", "Z00.00", "M54.2", "M51.16", "I10")
DEGENERATIVE_DX = ("G35", "G20.A1", "G12.21", "G20")
ANCHORS = ("2024-05-31", "2024-08-31", "2024-02-29", "2023-11-30", "2024-01-31", "2024-08-13", "2024-08-14",
           "2023-03-15", "2019-08-15", "2021-02-01", "2022-06-01", "2017-12-01", "2018-03-01", "2016-03-01",
           "2025-10-01", "2023-08-23", "2025-03-31", "2020-02-29", "2022-12-31", "2023-12-31")


def _d(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class RawFiles:
    claims: list[dict] = field(default_factory=list)
    eligibility: list[dict] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)

    def line(self, person: str, day: date, hcpcs: str | None, dx: tuple = (), tin: str | None = TINS[0],
             delivery: str = "2026-01", claim_id: str | None = None, line_number: int = 1,
             on_claim_start: bool = False) -> dict:
        if hcpcs and len(self.claims) % 7 == 3:
            hcpcs = f" {hcpcs.lower()} "  # real files: lower case, padded
        row = {
            "claim_id": claim_id or f"C{len(self.claims):05d}", "claim_line_number": line_number,
            "person_id": person, "payer": "Medicare", "claim_start_date": day,
            "claim_line_start_date": None if on_claim_start else day, "hcpcs_code": hcpcs,
            "rendering_tin": tin, "rendering_npi": None if tin is None else f"1{tin[:9]}",
            "_delivery": delivery,
            **{f"diagnosis_code_{i + 1}": code for i, code in enumerate(dx)},
        }
        self.claims.append(row)
        return row

    def score(self, person: str, day: date, code: str, value: str, delivery: str = "2026-01",
              observation_id: str | None = None) -> None:
        if len(self.observations) % 5 == 2 and "." not in value:
            value = f"{value}.00"  # trailing zeros: the same score
        source, normalized = code, None
        if len(self.observations) % 11 == 4:
            source, normalized = "LOCAL-SCORE", code  # the source's own code, normalized to the instrument's
        elif len(self.observations) % 11 == 7:
            normalized = "SNOMED-0000"  # a normalized code no instrument has: the source code decides
        self.observations.append({
            "observation_id": observation_id or f"O{len(self.observations):05d}", "person_id": person,
            "observation_date": day, "source_code": source, "normalized_code": normalized, "result": value,
            "_delivery": delivery,
        })


def _birth(rng: random.Random, day: date, age: int) -> date:
    """A birth date that makes the person exactly `age` on `day` (or a day short of it, or a day past it), else a
    random adult; 29 February births among them."""
    pick = rng.random()
    if pick < 0.15:
        return day - relativedelta(years=age)
    if pick < 0.25:
        return day - relativedelta(years=age) + timedelta(days=1)
    if pick < 0.3:
        leap = day.year - age - (day.year - age) % 4  # 2000 is the only century year in range
        return date(leap + rng.choice((0, 4, -4)), 2, 29)
    return day - relativedelta(years=rng.randint(age + 1, 85), days=rng.randint(0, 364))


def _procedure_day(rng: random.Random, as_ofs: list[date]) -> date:
    pick = rng.random()
    if pick < 0.45:
        return _d(rng.choice(ANCHORS))
    if pick < 0.75:
        # an as-of date on the window end, or a day either side of it
        as_of = rng.choice(as_ofs)
        if rng.random() < 0.5:
            return as_of - timedelta(days=140 + rng.choice((-1, 0, 1)))
        return as_of - relativedelta(months=15) + timedelta(days=rng.choice((-1, 0, 1)))
    return date(2016, 1, 1) + timedelta(days=rng.randint(0, 12 * 365))


def _enrollment(files: RawFiles, rng: random.Random, person: str, birth: date, gender: str) -> None:
    files.eligibility.append({"person_id": person, "birth_date": birth, "gender": gender,
                              "enrollment_start_date": date(2010, 1, 1), "payer": "Medicare"})
    if rng.random() < 0.08:  # the span delivered again with its birth date corrected by a day
        files.eligibility.append({**files.eligibility[-1], "_delivery": "2026-03",
                                  "birth_date": birth + timedelta(days=rng.choice((-1, 1)))})
    if rng.random() < 0.1:  # a later span delivered without a birth date
        files.eligibility.append({"person_id": person, "birth_date": None, "gender": gender,
                                  "enrollment_start_date": date(2020, 1, 1), "payer": "Aetna"})


def _surgery(files: RawFiles, rng: random.Random, person: str, as_ofs: list[date], again: bool = True) -> None:
    day = _procedure_day(rng, as_ofs)
    if again:
        _enrollment(files, rng, person, _birth(rng, day, 18), "female")
    dx = ("M51.16",)
    shape = rng.choice(("decompression", "fusion", "same_day", "staged", "two_lines", "add_on", "corrected"))
    tin = rng.choice(TINS)
    main = files.line(person, day, rng.choice(DECOMPRESSION if shape != "fusion" else FUSION), dx, tin=tin,
                      on_claim_start=rng.random() < 0.2)
    if shape == "same_day":
        files.line(person, day, rng.choice(FUSION), dx, tin=rng.choice(TINS))
    elif shape == "staged":
        files.line(person, day + timedelta(days=1), rng.choice(FUSION), dx, tin=tin)
    elif shape == "two_lines":
        files.line(person, day, rng.choice(DECOMPRESSION), dx, tin=rng.choice(TINS), claim_id=main["claim_id"],
                   line_number=2)
    elif shape == "add_on":
        files.line(person, day, "63048", dx, tin=tin)
    elif shape == "corrected":
        # the same claim line delivered again: a moved date, another procedure, or no procedure at all
        correction = rng.choice(("moved", "fusion", "removed", "same"))
        fix = {**main, "_delivery": "2026-03"}
        if correction == "moved":
            fix["claim_start_date"] = fix["claim_line_start_date"] = day + timedelta(days=rng.choice((1, -1, 400)))
        elif correction == "fusion":
            fix["hcpcs_code"] = rng.choice(FUSION)
        elif correction == "removed":
            fix["hcpcs_code"] = "99213"
        files.claims.append(fix)
    fusion = shape in ("fusion", "same_day")
    start = day + (relativedelta(months=9) if fusion else timedelta(days=42))
    end = day + (relativedelta(months=15) if fusion else timedelta(days=140))
    nominal = day + (relativedelta(months=12) if fusion else timedelta(days=91))
    if rng.random() < 0.3:
        lookback = day - relativedelta(months=12)
        when = rng.choice((lookback, lookback - timedelta(days=1), lookback + timedelta(days=1), day,
                           day + timedelta(days=1), day - timedelta(days=30)))
        code = rng.choice(EXCLUSION_DX if rng.random() < 0.7 else NEAR_MISS_DX)
        files.line(person, when, rng.choice(("99213", None)), (rng.choice(OTHER_DX), code), tin=tin)
    if rng.random() < 0.1:
        when = rng.choice((day, end, end + timedelta(days=1), day - timedelta(days=1)))
        files.line(person, when, "G9945", dx, tin=tin)
    pre_days = (day - relativedelta(months=3), day - relativedelta(months=3) - timedelta(days=1), day,
                day + timedelta(days=1), day - timedelta(days=10))
    post_days = (start - timedelta(days=1), start, nominal, end, end + timedelta(days=1), nominal - timedelta(days=5),
                 nominal + timedelta(days=5), nominal + timedelta(days=1), nominal - timedelta(days=1))
    for codes, pre_values, post_values in ((BACK_PAIN, PAIN_PRE, PAIN_POST), ((LEG_PAIN,), PAIN_PRE, PAIN_POST),
                                           ((ODI,), ODI_PRE, ODI_POST)):
        if rng.random() < 0.15:
            continue
        for when in rng.sample(pre_days, rng.randint(0, 2)):
            for _ in range(rng.choice((1, 1, 2))):
                files.score(person, when, rng.choice(codes), rng.choice(pre_values))
        for when in rng.sample(post_days, rng.randint(0, 3)):
            for _ in range(rng.choice((1, 1, 2))):
                files.score(person, when, rng.choice(codes), rng.choice(post_values))
    if again and rng.random() < 0.15:
        # another surgery of the same person (its windows overlap the first one's), or lumbar rehab after it
        if rng.random() < 0.5:
            _surgery(files, rng, person, as_ofs, again=False)
        else:
            _rehab(files, rng, person, as_ofs, again=False)
    if rng.random() < 0.1:
        # a score corrected in a later delivery (same observation_id)
        last = files.observations[-1] if files.observations and files.observations[-1]["person_id"] == person else None
        if last:
            files.observations.append({**last, "result": rng.choice(PAIN_POST), "_delivery": "2026-03"})


def _rehab(files: RawFiles, rng: random.Random, person: str, as_ofs: list[date], again: bool = True) -> None:
    pick = rng.random()
    if pick < 0.4:
        start = _d(rng.choice(ANCHORS))
    elif pick < 0.7:
        start = rng.choice(as_ofs) - timedelta(days=rng.choice((30, 59, 60, 61, 75, 100)))
    else:
        start = date(2016, 1, 1) + timedelta(days=rng.randint(0, 12 * 365))
    if again:
        _enrollment(files, rng, person, _birth(rng, start, 14), rng.choice(("male", "female")))
    tin = rng.choice((*TINS, OUT_OF_SCOPE_TIN))
    back = rng.choice(LOW_BACK_DX)
    day = start
    if rng.random() < 0.1:  # a low back diagnosis, but not on the evaluation line: starts nothing
        files.line(person, day, rng.choice(INITIAL_EVALUATION), (rng.choice(OTHER_DX),), tin=tin)
        files.line(person, day, "97110", (back,), tin=tin)
    else:
        files.line(person, day, rng.choice(INITIAL_EVALUATION), (rng.choice(OTHER_DX), back)[rng.randint(0, 1):],
                   tin=tin)
    if rng.random() < 0.2:  # a second start line the same day
        files.line(person, day, rng.choice(("97161", "M1121")), (back,), tin=rng.choice((*TINS, OUT_OF_SCOPE_TIN)))
    days = [day]
    for _ in range(rng.randint(0, 9)):
        day = day + timedelta(days=rng.choice((0, 1, 7, 14, 30, 59, 60, 60, 61, 61, 90)))
        kind = rng.random()
        if kind < 0.2:
            files.line(person, day, "M1012", (rng.choice((back, "Z00.00")),), tin=tin)
            if rng.random() < 0.3:  # a new evaluation the same day or the next
                files.line(person, day + timedelta(days=rng.choice((0, 1))), rng.choice(INITIAL_EVALUATION),
                           (back,), tin=rng.choice(TINS))
        elif kind < 0.35:
            files.line(person, day, rng.choice(INITIAL_EVALUATION), (back,), tin=rng.choice(TINS))
        elif kind < 0.45:
            files.line(person, day, "97110", (rng.choice(OTHER_DX),), tin=tin)  # not a visit
        else:
            files.line(person, day, "97110", (rng.choice(OTHER_DX), back), tin=tin)
        days.append(day)
    if rng.random() < 0.1:
        files.line(person, start, "M1012", (back,), tin=tin)  # on the start day: closes nothing
    if rng.random() < 0.15:
        when = rng.choice(days) + timedelta(days=rng.choice((-400, 0, 1, 5)))
        files.line(person, when, rng.choice(("99213", None)), (rng.choice(DEGENERATIVE_DX),), tin=tin)
    if rng.random() < 0.1:
        when = rng.choice(days) + timedelta(days=rng.choice((-1, 0, 1)))
        files.line(person, when, rng.choice(("M1122", "G9733")), (back,), tin=tin)
    if tin == OUT_OF_SCOPE_TIN:
        return
    values = ("40", "45", "50", "52.2", "40.1", "30", "60", "45.5", "55")
    for when in rng.sample((start - timedelta(days=8), start - timedelta(days=7), start, start + timedelta(days=14),
                            start + timedelta(days=15)), rng.randint(0, 2)):
        for _ in range(rng.choice((1, 1, 2))):
            files.score(person, when, FS, rng.choice(values))
        if rng.random() < 0.6:
            files.score(person, when, PRED, rng.choice(("10", "12.1", "5", "11.5", "-2", "0")))
    for when in rng.sample(sorted(set(days)), min(len(set(days)), rng.randint(0, 3))):
        offset = rng.choice((0, 7, 8, 1))
        for _ in range(rng.choice((1, 1, 2))):
            files.score(person, when + timedelta(days=offset), FS, rng.choice(values))
    if rng.random() < 0.5:
        # a complete episode whose residual is 0 or a thousandth either side: intake on the start, discharge on the
        # last visit; the vendor's prediction, or the open model's (OPEN_MODEL, rounded to 3 decimals)
        intake = rng.choice((Decimal("40.1"), Decimal("33"), Decimal("61.5"), Decimal("12.5")))
        files.score(person, start, FS, str(intake))
        if rng.random() < 0.5:
            predicted = rng.choice((Decimal("12.1"), Decimal("0"), Decimal("-3.5")))
            files.score(person, start, PRED, str(predicted))
        else:
            predicted = round(Decimal(str(OPEN_MODEL["intercept"])) + Decimal(str(OPEN_MODEL["intake_fs"])) * intake, 3)
        discharge = intake + predicted + rng.choice((Decimal("0"), Decimal("0.001"), Decimal("-0.001")))
        if 0 <= discharge <= 100 and days[-1] > start:
            files.score(person, days[-1], FS, str(discharge))


def generate(seed: int, persons: int, as_ofs: list[date]) -> RawFiles:
    rng = random.Random(seed)
    files = RawFiles()
    for i in range(persons):
        person = f"P{seed}-{i:04d}"
        (_surgery if rng.random() < 0.55 else _rehab)(files, rng, person, as_ofs)
    return files


def load(path: Path, files: RawFiles, landing: Path, deliveries: set[str] | None = None) -> dict[str, tuple[int, int]]:
    """Write the rows as landing CSV files, one per table and delivery (only `deliveries` when given), and load them
    into the raw tables of the warehouse at `path` with the project's ingestion (its rules and quarantine). Returns,
    per table, the rows read and the rows quarantined."""
    counts = {}
    with duckdb.connect(str(path)) as con:
        for table, rows in (("medical_claim", files.claims), ("eligibility", files.eligibility),
                            ("observation", files.observations)):
            frame = pd.DataFrame(rows)
            frame["_delivery"] = frame["_delivery"].fillna("2026-01") if "_delivery" in frame else "2026-01"
            if deliveries is not None:
                frame = frame[frame["_delivery"].isin(deliveries)]
            if frame.empty:
                continue
            read = quarantined = 0
            for delivery, part in frame.groupby("_delivery"):
                csv = landing / delivery / table / f"{delivery}.csv"
                csv.parent.mkdir(parents=True, exist_ok=True)
                part.drop(columns="_delivery").to_csv(csv, index=False)
                report = load_delivery(con, table, delivery, [csv], landing)
                assert report.read == report.loaded + report.quarantined, report
                read, quarantined = read + report.read, quarantined + report.quarantined
            assert read == len(frame), (table, read, len(frame))
            counts[table] = (read, quarantined)
    return counts


def month_of(day: date, months: int = 0) -> str:
    return (day.replace(day=1) + relativedelta(months=months)).strftime("%Y-%m")


def monthly_deliveries(files: RawFiles, rng: random.Random) -> RawFiles:
    """The same rows as a feed delivers them: each in the delivery of its service month or up to two months later
    (late claims and scores), enrollment in the delivery of its start, and every correction one to three months
    after the version it corrects."""
    delivered: dict[tuple, str] = {}
    for table, rows, key, dated in (
            ("claims", files.claims, ("claim_id", "claim_line_number"), "claim_start_date"),
            ("observations", files.observations, ("observation_id",), "observation_date"),
            ("eligibility", files.eligibility, ("person_id", "enrollment_start_date", "payer"),
             "enrollment_start_date")):
        for row in rows:
            ident = (table, *(row.get(k) for k in key))
            if row.get("_delivery", "2026-01") == "2026-01":
                row["_delivery"] = month_of(row[dated], rng.choice((0, 0, 1, 2)))
            else:
                row["_delivery"] = month_of(date.fromisoformat(delivered[ident] + "-01"), rng.randint(1, 3))
            delivered[ident] = row["_delivery"]
    return files
