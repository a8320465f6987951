"""What a new user brings, through the real command (`spine-pipeline run` in a child process):

- the Tuva Project's own sample claims (shared/data/tuva_sample, Apache-2.0) as one delivery, at an as-of date
  in 2018: the run succeeds, no line Tuva's input-layer contract accepts is quarantined, warn-level gaps are
  counted, and the published per-code, per-year claim-line counts equal a count made here directly on the CSV;
- a configured MEASURE_220_TINS list (a settings file naming a TIN file) that replaces the default measure 220
  scope: a listed TIN in, an unlisted one out, a TIN written with a hyphen matched, and a listed TIN without any
  intake score in scope all the same; then the operator's case export of that warehouse.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.sample_data.cli import generate
from orchestration.settings import CONFIG_ENV, SETTINGS

pytestmark = pytest.mark.slow

TUVA_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tuva_sample"
TUVA_SAMPLE = TUVA_SAMPLE if TUVA_SAMPLE.is_dir() else Path("/work/shared/data/tuva_sample")
TUVA_AS_OF = "2018-12-31"
TUVA_TABLES = ("medical_claim", "eligibility", "observation")


def spine_pipeline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS} and k != CONFIG_ENV}
    base.pop("DAGSTER_HOME", None)
    return subprocess.run([sys.executable, "-m", "orchestration.run", *args], env={**base, **env},
                          capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def tuva_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tuva")
    for table in TUVA_TABLES:  # one delivery: the same file name in each table's folder
        (root / "landing" / table).mkdir(parents=True)
        shutil.copy(TUVA_SAMPLE / f"{table}.csv", root / "landing" / table / "tuva_sample.csv")
    result = spine_pipeline("run", env={"LANDING_DIR": str(root / "landing"), "DATA_DIR": str(root / "data"),
                                        "AS_OF_DATE": TUVA_AS_OF})
    return root, result


def _csv(table: str) -> str:
    return f"read_csv('{TUVA_SAMPLE / (table + '.csv')}', all_varchar = true, header = true)"


@pytest.mark.xdist_group("tuva_sample")
def test_tuva_sample_runs_as_one_delivery_and_prints_each_stage(tuva_run):
    _, result = tuva_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Ingesting 1 deliveries" in out
    assert "As of 2018-12-31 (AS_OF_DATE); the data loaded are dated " in out
    # at the default LOG_LEVEL the console keeps to the stages: not dbt's line per model and test (~300 a build)
    assert " START sql " not in out and "Completed successfully" not in out
    assert "ingest medical_claim: read 2,075, loaded 2,075" in out
    for stage in ("ingest medical_claim done in", "dbt: models and tests done in",
                  "publication: small cells suppressed: ", "suppression units suppressed again", "publication done in"):
        assert stage in out, stage
    # the sample has no measure's cases: the summary says so instead of printing an empty frame
    assert "(no cases for any measure in the data)" in out and "Empty DataFrame" not in out
    assert "Traceback" not in result.stderr
    # library notices meant for developers (Dagster's preview APIs, pyspark's pandas check in a DuckDB run) stay quiet
    assert "PreviewWarning" not in result.stderr and "PySpark does not yet fully support" not in result.stderr
    # nor dagster-dbt's advice to the project's developers about its singular dbt tests (three on every refit)
    assert "instead of an `AssetCheckResult`" not in result.stderr
    # a failed warning check says why on the console, not only its name
    assert ("check raw/medical_claim:warn_level_gaps failed (warning): loaded with warn-level gaps "
            "(raw.medical_claim__warnings): missing_diagnosis_code_1 (diagnosis_code_1) 303 rows") in out


@pytest.mark.xdist_group("tuva_sample")
def test_no_line_tuva_accepts_is_quarantined(tuva_run):
    root, _ = tuva_run
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        # Tuva's error-severity tests: claim_id / claim_line_number / person_id (eligibility) / observation_id
        # not null, and unique claim lines (claim_id, claim_line_number, data_source); every other test is warn.
        tuva_errors = {
            "medical_claim": con.execute(f"""
                select count(*) from (select *, count(*) over (partition by claim_id, claim_line_number, data_source)
                                      as n from {_csv('medical_claim')})
                where claim_id is null or claim_line_number is null or n > 1""").fetchone()[0],
            "eligibility": con.execute(f"select count(*) from {_csv('eligibility')} where person_id is null"
                                       ).fetchone()[0],
            "observation": con.execute(f"select count(*) from {_csv('observation')} where observation_id is null"
                                       ).fetchone()[0],
        }
        for table in TUVA_TABLES:
            read, loaded, quarantined = con.execute(
                "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from raw._deliveries "
                "where table_name = ?", [table]).fetchone()
            delivered = con.execute(f"select count(*) from {_csv(table)}").fetchone()[0]
            assert (read, read - loaded) == (delivered, quarantined)
            assert quarantined == tuva_errors[table] == 0, table


@pytest.mark.xdist_group("tuva_sample")
def test_warn_level_gaps_are_counted_per_rule(tuva_run):
    root, result = tuva_run
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        expected = dict(con.execute(f"""
            select 'missing_hcpcs_code', count(*) filter (where hcpcs_code is null) from {_csv('medical_claim')}
            union all
            select 'missing_diagnosis_code_1', count(*) filter (where diagnosis_code_1 is null)
            from {_csv('medical_claim')}""").fetchall())
        counted = dict(con.execute("select rule, count(*) from raw.medical_claim__warnings group by 1").fetchall())
        # a line without HCPCS still brings its diagnoses to staging
        staged_dx = con.execute("""
            select count(*) from staging.stg_claim_diagnosis d join staging.stg_medical_claim c
            using (claim_id, claim_line_number) where c.hcpcs_code is null""").fetchone()[0]
        delivered_dx = con.execute(f"""
            select count(*) from (unpivot (select * exclude (diagnosis_code_type) from {_csv('medical_claim')}
                                           where hcpcs_code is null)
                                  on columns('^diagnosis_code_[0-9]+$') into name pos value code)
            where code is not null""").fetchone()[0]
    assert counted == expected and expected["missing_hcpcs_code"] > 100
    assert f"missing_hcpcs_code {expected['missing_hcpcs_code']}" in result.stdout
    assert staged_dx == delivered_dx > 0


@pytest.mark.xdist_group("tuva_sample")
def test_published_code_year_counts_equal_a_count_on_the_source_file(tuva_run):
    root, _ = tuva_run
    with duckdb.connect(str(root / "data" / "published.duckdb"), read_only=True) as con:
        independent = dict(((code, year), n) for code, year, n in con.execute(f"""
            select upper(trim(hcpcs_code)), year(coalesce(claim_line_start_date, claim_start_date)::date)::varchar,
                   count(*)
            from {_csv('medical_claim')}
            where trim(hcpcs_code) <> ''
              and coalesce(claim_line_start_date, claim_start_date)::date <= date '{TUVA_AS_OF}'
            group by all""").fetchall())
        published = con.execute("select code, period, claim_lines, claim_lines_suppressed from code_overview "
                                "where period_type = 'year'").fetchall()
        payers = con.execute("select distinct payer, payer_type from code_by_payer").fetchall()
    unsuppressed = {(code, year): n for code, year, n, suppressed in published if not suppressed}
    assert len(unsuppressed) >= 20
    assert unsuppressed == {cell: n for cell, n in independent.items() if cell in unsuppressed}
    # every cell the source has is published (suppressed or not), and nothing else is
    assert {(code, year) for code, year, _, _ in published} == set(independent)
    # codes whose lines lack a diagnosis (DME, labs) were missing before the contract followed Tuva's severities
    assert {"E1390", "E0431", "36415"} <= {code for code, _, _, _ in published}
    assert payers == [("Medicare", "medicare")]


@pytest.fixture(scope="module")
def tins_run(tmp_path_factory):
    """3,000 generated persons over 13 months; a settings file (TOML) names a TIN file (@, comments, a hyphen)."""
    root = tmp_path_factory.mktemp("tins")
    generate(3000, 11, root / "landing", defect_rate=0.0, start="2025-01-01", end="2026-01-31")
    with duckdb.connect() as con:
        claims = f"read_csv('{root / 'landing' / 'medical_claim'}/*.csv', all_varchar = true)"
        providers = f"read_csv('{root / 'landing' / 'provider'}/*.csv', all_varchar = true)"
        # physical-therapy practices evaluate with FOTO scores; a spine surgery practice sees low back patients
        # without them, so the default rule leaves it out
        therapy_tins = [r[0] for r in con.execute(f"""
            select rendering_tin from {claims}
            where hcpcs_code in ('97161', '97162', '97163') group by 1 order by count(*) desc, 1""").fetchall()]
        surgery_tin = con.execute(f"""
            select c.rendering_tin from {claims} c join {providers} p on p.npi = c.rendering_npi
            where p.primary_taxonomy_code = '207XS0117X' group by 1 order by count(*) desc, 1 limit 1""").fetchone()[0]
    listed, hyphenated, unlisted = therapy_tins[:3]
    (root / "config").mkdir()
    (root / "config" / "tins.txt").write_text(
        f"# TINs that report measure 220\n{listed}\n{hyphenated[:2]}-{hyphenated[2:]}   # written with a hyphen\n"
        f"\n{surgery_tin}\n")
    (root / "config" / "settings.toml").write_text(
        'LANDING_DIR = "../landing"\nDATA_DIR = "../data"\nMEASURE_220_TINS = "@tins.txt"\n')
    result = spine_pipeline("run", "--config", str(root / "config" / "settings.toml"), env={})
    return root, result, (listed, hyphenated, unlisted, surgery_tin)


@pytest.mark.xdist_group("measure_220_tins")
def test_configured_tins_replace_the_default_scope(tins_run):
    root, result, (listed, hyphenated, unlisted, surgery_tin) = tins_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        cases = dict(con.execute("select tin, count(*) from marts.measure_cases where measure_id = '220' "
                                 "group by 1").fetchall())
        episodes = {tin: (n, intake) for tin, n, intake in con.execute("""
            select e.tin, count(*), count(*) filter (where s.intake_fs is not null)
            from intermediate.int_rehab__episodes e
            join intermediate.int_rehab__episode_scores s using (episode_id) group by 1""").fetchall()}
        surgery_codes = {c for (c,) in con.execute(
            "select distinct qdc_code from marts.measure_cases where measure_id = '220' and tin = ?",
            [surgery_tin]).fetchall()}
    # the default rule puts the three therapy practices in scope (episodes with an intake FS), not the surgeons
    assert all(episodes[tin][1] > 0 for tin in (listed, hyphenated, unlisted))
    assert episodes[surgery_tin][0] > 0 and episodes[surgery_tin][1] == 0
    # the configured list replaces it: exactly the listed TINs, the hyphenated one matched, the surgeons in
    # scope without a single intake score (their closed episodes are not measured, G8662)
    assert set(cases) == {listed, hyphenated, surgery_tin} and all(n > 10 for n in cases.values())
    assert "G8662" in surgery_codes and not surgery_codes & {"G8659", "G8660"}
    qpp_220 = [p for p in (root / "data" / "qpp_submissions").glob("*.json") if unlisted in p.name]
    assert all('"220"' not in p.read_text() for p in qpp_220)


@pytest.mark.xdist_group("measure_220_tins")
def test_export_cases_of_the_configured_warehouse(tins_run, tmp_path):
    root, result, (listed, hyphenated, _, surgery_tin) = tins_run
    assert result.returncode == 0
    out = tmp_path / "cases_220.csv"
    export = spine_pipeline("export-cases", str(out), "--measure", "220",
                            "--config", str(root / "config" / "settings.toml"), env={})
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(out.open()))
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        assert len(rows) == con.execute("select count(*) from marts.measure_cases where measure_id = '220'"
                                        ).fetchone()[0]
    assert {r["tin"] for r in rows} == {listed, hyphenated, surgery_tin} and {r["measure_id"] for r in rows} == {"220"}
    refused = spine_pipeline("export-cases", str(root / "data" / "published" / "cases.csv"),
                             "--config", str(root / "config" / "settings.toml"), env={})
    assert refused.returncode == 2 and not (root / "data" / "published" / "cases.csv").exists()


@pytest.mark.xdist_group("tuva_sample")
def test_sigterm_in_the_middle_says_interrupted_keeps_nothing_half_published_and_frees_the_lock(tuva_run, tmp_path):
    """A scheduler's SIGTERM (or Ctrl-C) while dbt runs: one line that says the run was interrupted and the previous
    publication kept (it said "The refresh run failed; see the run's logs"), exit 1, the publication of the run
    before untouched, and the DATA_DIR free for the next run, which publishes."""
    import signal
    import time

    from orchestration.data_dir_lock import data_dir_lock

    root, first = tuva_run
    assert first.returncode == 0
    data = tmp_path / "data"
    shutil.copytree(root / "data", data, symlinks=True)
    before = os.readlink(data / "current")
    base = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS} and k != CONFIG_ENV}
    base.pop("DAGSTER_HOME", None)
    env = {**base, "LANDING_DIR": str(root / "landing"), "DATA_DIR": str(data), "AS_OF_DATE": "2018-06-30"}
    process = subprocess.Popen([sys.executable, "-m", "orchestration.run", "run"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    for line in process.stdout:  # the first dbt stage: the run is well under way, nothing published yet
        seen.append(line)
        if "dbt: models and tests ..." in line:
            time.sleep(2)
            process.send_signal(signal.SIGTERM)
            break
    out, err = process.communicate(timeout=600)
    assert process.returncode == 1, "".join(seen) + out + err
    assert "Interrupted (Ctrl-C or SIGTERM): nothing new was published, the previous publication is kept" in err
    assert "The refresh run failed" not in err
    assert os.readlink(data / "current") == before
    with data_dir_lock(data, 0):  # released: DataDirBusy otherwise
        pass
    again = spine_pipeline("run", env={"LANDING_DIR": str(root / "landing"), "DATA_DIR": str(data),
                                       "AS_OF_DATE": "2018-06-30"})
    assert again.returncode == 0, again.stderr[-2000:]
    assert os.readlink(data / "current") != before
