"""CMS's own measure and benchmark data (qpp-measures-data) as dbt seeds: dbt_project/seeds/qpp/.

The JSON files in seeds/qpp/ are CMS's entries for the measures of the registry (seeds/measures.csv), fields
unchanged; seeds/qpp/source.json says which release they come from. This script turns them into the CSV seeds
the models read (one row per measure and year, per stratum, per benchmark, per decile). A new CMS release is a
data update:

    git clone https://github.com/CMSgov/qpp-measures-data /tmp/qpp-measures-data
    .venv/bin/python scripts/extract_qpp_reference.py --from-checkout /tmp/qpp-measures-data
    make test      # the dbt tests check the project's strata mapping against the new data

Without --from-checkout the CSV seeds are rewritten from the JSON files already in the project (a test checks
that the committed seeds equal that output).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
QPP = SEEDS / "qpp"
# Benchmarks before PY2023 give `deciles`: the inclusive lower bounds of deciles 2..10. From PY2023 they give
# `percentiles`, of which the 10th .. 90th are the same bounds (CMS benchmarks-schema.yaml, "used in the same
# way for scoring purposes").
PERCENTILE_OF_DECILE = {decile: str(10 * (decile - 1)) for decile in range(2, 11)}

TABLES = {
    "qpp_measure_years": ("measure_id", "performance_year", "title", "metric_type", "overall_algorithm", "is_inverse",
                          "first_performance_year", "last_performance_year", "submission_methods", "source"),
    "qpp_measure_strata": ("measure_id", "performance_year", "stratum_order", "qpp_stratum", "source"),
    "qpp_benchmarks": ("measure_id", "performance_year", "submission_method", "has_benchmark", "benchmark_year",
                       "is_inverse", "is_topped_out", "is_topped_out_by_program", "average_performance_rate",
                       "percentile_1", "percentile_99", "reason_codes", "reason_descriptions", "source"),
    "qpp_benchmark_deciles": ("measure_id", "performance_year", "submission_method", "decile", "lower_bound",
                              "source"),
}


def registry_measures(seeds: Path = SEEDS) -> set[str]:
    with (seeds / "measures.csv").open(newline="") as handle:
        return {row["measure_id"] for row in csv.DictReader(handle)}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(_text(v) for v in value)
    return str(value)


def extract_checkout(checkout: Path, commit: str | None, seeds: Path = SEEDS) -> None:
    """Rewrite measures.json, benchmarks.json and source.json from a qpp-measures-data checkout."""
    qpp = seeds / "qpp"
    wanted = registry_measures(seeds)
    measures, benchmarks, reasons = {}, {}, {}
    for year_dir in sorted(p for p in (checkout / "measures").iterdir() if p.name.isdigit()):
        data = json.loads((year_dir / "measures-data.json").read_text())
        measures[year_dir.name] = sorted((m for m in data if m.get("measureId") in wanted),
                                         key=lambda m: m["measureId"])
    for path in sorted((checkout / "benchmarks").glob("[0-9][0-9][0-9][0-9].json")):
        year = path.stem
        benchmarks[year] = sorted((b for b in json.loads(path.read_text()) if b.get("measureId") in wanted),
                                  key=lambda b: (b["measureId"], b["submissionMethod"]))
        # the file's name changed between releases
        for name in ("benchmark-exclusion-reasons.json", "benchmarks-exclusion-reasons.json"):
            reasons_path = checkout / "benchmarks" / year / name
            if reasons_path.exists():
                reasons[year] = sorted((r for r in json.loads(reasons_path.read_text()) if r.get("measureId") in wanted),
                                       key=lambda r: (r["measureId"], r["submissionMethod"]))
                break
    (qpp / "measures.json").write_text(json.dumps(measures, indent=1, sort_keys=True) + "\n")
    (qpp / "benchmarks.json").write_text(
        json.dumps({"benchmarks": benchmarks, "exclusion_reasons": reasons}, indent=1, sort_keys=True) + "\n")
    source = json.loads((qpp / "source.json").read_text())
    package = checkout / "package.json"
    if package.exists():
        source["version"] = "v" + json.loads(package.read_text())["version"]
    if commit is None:
        found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
        commit = found.stdout.strip() if found.returncode == 0 else "unknown"
    source["commit"] = commit
    source.pop("commit_date", None)
    (qpp / "source.json").write_text(json.dumps(source, indent=2) + "\n")


def seed_rows(qpp: Path = QPP) -> dict[str, list[tuple]]:
    """The CSV seeds' rows, computed from the JSON files in seeds/qpp/."""
    source = json.loads((qpp / "source.json").read_text())
    release = f"CMS qpp-measures-data {source['version']} ({source['commit'][:7]}, {source['licence']})"
    measures = json.loads((qpp / "measures.json").read_text())
    bench = json.loads((qpp / "benchmarks.json").read_text())
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    inverse = {}
    for year, entries in measures.items():
        where = f"{release}: measures/{year}/measures-data.json"
        for m in entries:
            inverse[(m["measureId"], year)] = m.get("isInverse")
            rows["qpp_measure_years"].append((
                m["measureId"], year, m["title"], m["metricType"], m.get("overallAlgorithm"), m.get("isInverse"),
                m.get("firstPerformanceYear"), m.get("lastPerformanceYear"), m.get("submissionMethods"), where))
            for order, stratum in enumerate(m.get("strata") or [], start=1):
                rows["qpp_measure_strata"].append((m["measureId"], year, order, stratum["name"], where))
    for year, entries in bench["benchmarks"].items():
        where = f"{release}: benchmarks/{year}.json"
        for b in entries:
            if "percentiles" in b:
                bounds = [b["percentiles"][PERCENTILE_OF_DECILE[d]] for d in range(2, 11)]
            elif len(b.get("deciles", [])) == 9:
                bounds = b["deciles"]
            else:
                raise ValueError(f"benchmark {b['measureId']} PY{year}: neither percentiles nor 9 decile bounds")
            percentiles = b.get("percentiles", {})
            rows["qpp_benchmarks"].append((
                b["measureId"], year, b["submissionMethod"], True, b["benchmarkYear"],
                b.get("isInverse", inverse.get((b["measureId"], year))), b.get("isToppedOut"),
                b.get("isToppedOutByProgram"), b.get("averagePerformanceRate"), percentiles.get("1"),
                percentiles.get("99"), None, None, where))
            for decile, bound in zip(range(2, 11), bounds):
                rows["qpp_benchmark_deciles"].append((b["measureId"], year, b["submissionMethod"], decile, bound, where))
    for year, entries in bench["exclusion_reasons"].items():
        where = f"{release}: benchmarks/{year}/benchmark-exclusion-reasons.json"
        for r in entries:
            rows["qpp_benchmarks"].append((
                r["measureId"], year, r["submissionMethod"], False, r.get("benchmarkYear"), None, None, None, None,
                None, None, r.get("reasonCodes"), r.get("reasonDescriptions"), where))
    return {name: sorted(values, key=lambda row: tuple(_text(v).zfill(8) for v in row[:4]))
            for name, values in rows.items()}


def seed_csv(name: str, rows: list[tuple]) -> str:
    """The CSV text of one seed, as written to seeds/qpp/<name>.csv."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TABLES[name])
    writer.writerows(tuple(_text(v) for v in row) for row in rows)
    return buffer.getvalue()


def write_seeds(qpp: Path = QPP) -> None:
    for name, rows in seed_rows(qpp).items():
        (qpp / f"{name}.csv").write_text(seed_csv(name, rows))
        print(f"{len(rows):4d} rows -> {qpp / (name + '.csv')}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-checkout", type=Path, help="a qpp-measures-data checkout to extract from first")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git working tree")
    args = parser.parse_args(argv)
    if args.from_checkout:
        extract_checkout(args.from_checkout, args.commit)
    write_seeds()


if __name__ == "__main__":
    main()
