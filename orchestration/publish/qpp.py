"""QPP Submissions API JSON, one file per TIN and performance year, validated against the project's schema.

Counts come straight from the case table (exact, unsuppressed: a submission must match the clinical record),
so these files are submission payloads for CMS, not public tables; they live beside the publication.
Not measured counts as not met; excluded cases leave the eligible population and the exclusion field stays 0,
as QPP asks for MIPS CQMs. Pending cases are not counted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import jsonschema

from orchestration.publish.reference_data import PACKAGE_DIR

SCHEMA_PATH = PACKAGE_DIR / "schemas" / "qpp_submission.schema.json"


def _counts(con: duckdb.DuckDBPyConnection, work: str) -> list[tuple]:
    """(tin, year, measure, stratum, met, not met, eligible); every configured stratum is listed, zero or not."""
    return con.execute(
        f"""
        with strata as (
            select distinct measure_id, nullif(qpp_stratum, '') as qpp_stratum from {work}.measure_codes
            where outcome <> 'excluded'
        ),
        entity_measures as (
            select distinct tin, performance_year, measure_id from marts.measure_cases
            where status <> 'pending' and tin is not null
        ),
        cases as (
            select tin, performance_year, measure_id, stratum,
                   count_if(status = 'met') as met,
                   count_if(status in ('not_met', 'not_measured')) as not_met,
                   count_if(status in ('met', 'not_met', 'not_measured')) as eligible
            from marts.measure_cases
            where status <> 'pending' and tin is not null
            group by all
        )
        select em.tin, em.performance_year, em.measure_id, coalesce(s.qpp_stratum, c.stratum) as stratum,
               coalesce(c.met, 0), coalesce(c.not_met, 0), coalesce(c.eligible, 0), s.qpp_stratum is not null
        from entity_measures as em
        left join strata as s on s.measure_id = em.measure_id
        left join cases as c
          on c.tin = em.tin and c.performance_year = em.performance_year and c.measure_id = em.measure_id
         and (s.qpp_stratum is null or c.stratum = s.qpp_stratum)
        order by 1, 2, 3, 4
        """
    ).fetchall()


def cases_without_tin(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        "select count(*) from marts.measure_cases where status <> 'pending' and tin is null"
    ).fetchone()[0]


def _rates(met: int, not_met: int, eligible: int) -> dict:
    return {
        "performanceMet": met,
        "performanceNotMet": not_met,
        "eligiblePopulation": eligible,
        "eligiblePopulationExclusion": 0,
        "eligiblePopulationException": 0,
    }


def build_submissions(con: duckdb.DuckDBPyConnection, work: str) -> list[dict]:
    submissions: dict[tuple, dict] = {}
    for tin, year, measure_id, stratum, met, not_met, eligible, stratified in _counts(con, work):
        submission = submissions.setdefault(
            (tin, year),
            {
                "entityType": "group",
                "taxpayerIdentificationNumber": tin,
                "performanceYear": int(year),
                "measurementSets": [
                    {
                        "category": "quality",
                        "submissionMethod": "registry",
                        "performanceStart": f"{year}-01-01",
                        "performanceEnd": f"{year}-12-31",
                        "measurements": [],
                    }
                ],
            },
        )
        measurements = submission["measurementSets"][0]["measurements"]
        if not measurements or measurements[-1]["measureId"] != measure_id:
            value = {"isEndToEndReported": False, **({"strata": []} if stratified else {})}
            measurements.append({"measureId": measure_id, "value": value})
        value = measurements[-1]["value"]
        if stratified:
            value["strata"].append({"stratum": stratum, **_rates(met, not_met, eligible)})
        else:
            value.update(_rates(met, not_met, eligible))
    return list(submissions.values())


def check_submission(submission: dict, validator: jsonschema.protocols.Validator) -> list[str]:
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(submission)]
    for measurement in submission["measurementSets"][0]["measurements"]:
        value = measurement["value"]
        for rates in value.get("strata", [value]):
            if rates.get("performanceMet", 0) + rates.get("performanceNotMet", 0) > rates.get("eligiblePopulation", 0):
                problems.append(f"measure {measurement['measureId']}: met + not met exceeds the eligible population")
    return problems


def load_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def file_name(submission: dict) -> str:
    tin = re.sub(r"[^A-Za-z0-9]+", "_", submission["taxpayerIdentificationNumber"])
    return f"qpp_{tin}_{submission['performanceYear']}.json"


def write_submissions(con: duckdb.DuckDBPyConnection, work: str, out_dir: Path) -> int:
    """Validate every submission first, then write them; raises on the first invalid one."""
    validator = load_validator()
    submissions = build_submissions(con, work)
    for submission in submissions:
        problems = check_submission(submission, validator)
        if problems:
            raise ValueError(f"QPP submission {file_name(submission)} is invalid: {problems}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for submission in submissions:
        (out_dir / file_name(submission)).write_text(json.dumps(submission, indent=2) + "\n")
    return len(submissions)
