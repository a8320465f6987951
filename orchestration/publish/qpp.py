"""QPP Submissions API JSON, one file per TIN and performance year, built from CMS's own measure data for that year.

What a file holds is the dbt model reporting.qpp_measurements: a measure is submitted for a year only when CMS
defines it then and the pipeline computes its metric type, its strata are the ones CMS lists that year under
CMS's names (qpp_stratum, e.g. `discectomyLaminectmy` in PY2024), a single-rate year has no strata, and the
counts follow the measure's rate (not measured counts as not met; excluded cases leave the eligible population
and the exclusion field stays 0, as QPP asks for MIPS CQMs; pending and not_eligible cases are not counted).
Every file is checked against the project's schema and against CMS's data for its year (measure exists, metric
type, exact strata names, submission method); a file with a problem is skipped and reported, the others are
written. A file byte-equal to the previous publication's, whose checks ran with the same schema, CMS data,
submission method and checking code (CHECKS_FILE, beside the QPP folder), passed them then: it is hard-linked
without checking it again.

Counts are exact (unsuppressed: a submission must match the clinical record), so these files are submission
payloads for CMS, not public tables; they live beside the publication.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jsonschema

from orchestration.publish.reference_data import PACKAGE_DIR

SCHEMA_PATH = PACKAGE_DIR / "schemas" / "qpp_submission.schema.json"
MEASUREMENTS = "reporting.qpp_measurements"
SINGLE_RATE = "singlePerformanceRate"
# The digest of what the files were checked against (schema, CMS data, method, this module), beside the QPP folder
CHECKS_FILE = "qpp_checks.txt"
LOG = logging.getLogger(__name__)


@dataclass
class SubmissionReport:
    """What write_submissions did: files written, files skipped with their problems, measure-years not submitted."""

    files: int = 0
    linked: int = 0  # of the files, those equal to the previous publication's: hard-linked, not written again
    checked: int = 0  # files checked (schema, CMS data); the linked ones are not when checked against the same
    skipped: list[dict] = field(default_factory=list)
    not_submitted: list[dict] = field(default_factory=list)


def _counts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(tin, year, measure, metric type, QPP stratum, met, not met, eligible), in the order the files list them."""
    return con.execute(
        f"""
        select tin, performance_year, measure_id, metric_type, qpp_stratum, performance_met, performance_not_met,
               eligible_population
        from {MEASUREMENTS}
        order by tin, performance_year, measure_id, qpp_stratum
        """
    ).fetchall()


def not_submitted(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The measure-years with cases that no file carries, and why (the not_eligible reasons: a year before the
    measure's first, a metric type the pipeline does not compute, a stratum CMS does not define)."""
    rows = con.execute(
        """
        select distinct measure_id, performance_year, reason from marts.measure_cases
        where status = 'not_eligible' order by 1, 2, 3
        """
    ).fetchall()
    return [{"measure_id": m, "performance_year": int(y), "reason": r} for m, y, r in rows]


def cases_without_tin(con: duckdb.DuckDBPyConnection) -> int:
    """Counted cases (excluded or in the eligible population) without a TIN: no file can carry them."""
    return con.execute(
        """
        select coalesce(sum(excluded + eligible_population), 0) from reporting.measure_performance
        where entity_level = 'tin' and stratum = 'all' and tin is null
        """
    ).fetchone()[0]


def _rates(met: int, not_met: int, eligible: int) -> dict:
    return {
        "performanceMet": met,
        "performanceNotMet": not_met,
        "eligiblePopulation": eligible,
        "eligiblePopulationExclusion": 0,
        "eligiblePopulationException": 0,
    }


def build_submissions(con: duckdb.DuckDBPyConnection, submission_method: str) -> list[dict]:
    submissions: dict[tuple, dict] = {}
    for tin, year, measure_id, metric_type, qpp_stratum, met, not_met, eligible in _counts(con):
        submission = submissions.setdefault(
            (tin, year),
            {
                "entityType": "group",
                "taxpayerIdentificationNumber": tin,
                "performanceYear": int(year),
                "measurementSets": [
                    {
                        "category": "quality",
                        "submissionMethod": submission_method,
                        "performanceStart": f"{year}-01-01",
                        "performanceEnd": f"{year}-12-31",
                        "measurements": [],
                    }
                ],
            },
        )
        measurements = submission["measurementSets"][0]["measurements"]
        stratified = metric_type != SINGLE_RATE
        if not measurements or measurements[-1]["measureId"] != measure_id:
            value = {"isEndToEndReported": False, **({"strata": []} if stratified else {})}
            measurements.append({"measureId": measure_id, "value": value})
        value = measurements[-1]["value"]
        if stratified:
            value["strata"].append({"stratum": qpp_stratum, **_rates(met, not_met, eligible)})
        else:
            value.update(_rates(met, not_met, eligible))
    return list(submissions.values())


def cms_measure_data(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], dict]:
    """(measure, year) -> CMS's metric type, submission methods and strata names (reference.qpp_* seeds)."""
    years = con.execute(
        "select measure_id, performance_year, metric_type, submission_methods from reference.qpp_measure_years"
    ).fetchall()
    strata = con.execute(
        "select measure_id, performance_year, list(qpp_stratum order by stratum_order) "
        "from reference.qpp_measure_strata group by all"
    ).fetchall()
    names = {(m, int(y)): list(s) for m, y, s in strata}
    return {
        (m, int(y)): {"metric_type": t, "submission_methods": (methods or "").split("|"),
                      "strata": names.get((m, int(y)), [])}
        for m, y, t, methods in years
    }


def check_against_cms(submission: dict, cms: dict[tuple[str, int], dict]) -> list[str]:
    """The file against CMS's measure data for its year: the measure exists then, the submission method is
    one of its methods, a single-rate measure carries no strata and a multi-rate one exactly CMS's strata names."""
    problems = []
    year = submission["performanceYear"]
    method = submission["measurementSets"][0]["submissionMethod"]
    for measurement in submission["measurementSets"][0]["measurements"]:
        measure_id = measurement["measureId"]
        facts = cms.get((measure_id, year))
        if facts is None:
            problems.append(f"measure {measure_id}: CMS defines no such measure for PY{year}")
            continue
        if method not in facts["submission_methods"]:
            problems.append(f"measure {measure_id}: PY{year} submission methods are {facts['submission_methods']}")
        strata = [s["stratum"] for s in measurement["value"].get("strata", [])]
        if facts["metric_type"] == SINGLE_RATE and strata:
            problems.append(f"measure {measure_id}: PY{year} is single-rate in CMS data, the file lists strata {strata}")
        elif facts["metric_type"] != SINGLE_RATE and sorted(strata) != sorted(facts["strata"]):
            problems.append(f"measure {measure_id}: PY{year} {facts['metric_type']} strata are {facts['strata']}, "
                            f"the file lists {strata}")
    return problems


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


def checks_digest(cms: dict[tuple[str, int], dict], submission_method: str) -> str:
    """What a file's checks depend on besides its bytes: the schema, CMS's data, the method and this module."""
    parts = [SCHEMA_PATH.read_bytes(), Path(__file__).read_bytes(), submission_method.encode(),
             json.dumps(sorted(cms.items()), default=str).encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _checked_with(qpp_dir: Path | None) -> str | None:
    record = qpp_dir.parent / CHECKS_FILE if qpp_dir else None
    return record.read_text() if record is not None and record.is_file() else None


def write_submissions(con: duckdb.DuckDBPyConnection, out_dir: Path, submission_method: str,
                      previous: Path | None = None) -> SubmissionReport:
    """Check every submission (schema, CMS's data for its year) and write the ones without a problem; a file
    with a problem is skipped, logged and listed in the report, never stopping the others. A file whose bytes
    equal the one of the same name in `previous` (the previous publication's folder) is hard-linked from there,
    and not checked again when the previous files were checked against the same schema, data and code (a file
    there passed its checks: one with a problem is never written)."""
    validator = load_validator()
    cms = cms_measure_data(con)
    digest = checks_digest(cms, submission_method)
    checked_before = previous is not None and _checked_with(previous) == digest
    report = SubmissionReport(not_submitted=not_submitted(con))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir.parent / CHECKS_FILE).write_text(digest)
    for submission in build_submissions(con, submission_method):
        name = file_name(submission)
        content = (json.dumps(submission, indent=2) + "\n").encode()
        before = previous / name if previous else None
        unchanged = before is not None and before.is_file() and before.read_bytes() == content
        problems = [] if unchanged and checked_before else (
            check_submission(submission, validator) + check_against_cms(submission, cms))
        if problems:
            LOG.warning("QPP submission %s skipped: %s", name, "; ".join(problems))
            report.skipped.append({"file": name, "problems": problems})
            continue
        if unchanged:
            os.link(before, out_dir / name)
            report.linked += 1
        else:
            (out_dir / name).write_bytes(content)
        report.files += 1
    report.checked = report.files + len(report.skipped) - (report.linked if checked_before else 0)
    return report
