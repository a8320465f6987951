"""The worklist outside dbt: the operator export (`spine-pipeline worklist`), its refusal of published paths, the
WORKLIST_EXPORT_DIR setting, the weekly schedule and job, the Dagster check with its counts, the run summary."""

from __future__ import annotations

import csv
import shutil
import stat
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from follow_up_support import AS_OF, OTHER_TIN, worklist_warehouse  # noqa: F401  (session fixture)
from orchestration.checks.worklist_checks import worklist_agrees_with_cases
from orchestration.exports.worklist import COLUMNS
from orchestration.jobs import worklist_export_job
from orchestration.resources import WarehouseResource
from orchestration.run import main, print_summary
from orchestration.schedules import weekly_worklist_export
from orchestration.settings import load_settings

pytestmark = [pytest.mark.xdist_group("follow_up_worklist")]


@pytest.fixture
def data_dir(worklist_warehouse, monkeypatch) -> Path:
    root = worklist_warehouse.path.parent
    monkeypatch.setenv("DATA_DIR", str(root))
    monkeypatch.delenv("WORKLIST_EXPORT_DIR", raising=False)
    return root


def _read(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _listed(wh, where: str = "true") -> int:
    return wh.query(f"select count(*) from marts.follow_up_worklist where {where}")[0][0]


def test_export_writes_the_whole_worklist_owner_only(worklist_warehouse, data_dir, tmp_path, capsys):
    out = tmp_path / "worklist.csv"
    assert main(["worklist", str(out)]) == 0
    rows = _read(out)
    assert len(rows) == _listed(worklist_warehouse) > 0
    assert list(rows[0]) == list(COLUMNS)
    assert [int(r["days_left"]) for r in rows] == sorted(int(r["days_left"]) for r in rows)
    assert {r["as_of_date"] for r in rows} == {AS_OF.isoformat()}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"{len(rows):,} worklist rows (as of {AS_OF})" in capsys.readouterr().out
    assert not list(tmp_path.glob(".worklist.csv.*"))


def test_export_filters_by_tin_and_due_within(worklist_warehouse, data_dir, tmp_path):
    out = tmp_path / "w.csv"
    assert main(["worklist", str(out), "--tin", OTHER_TIN]) == 0
    assert {(r["person_id"], r["tin"]) for r in _read(out)} == {("closed_yesterday", OTHER_TIN)}
    assert main(["worklist", str(out), "--due-within", "0"]) == 0
    due_now = {(r["person_id"], r["measure_id"]) for r in _read(out)}
    assert len(due_now) == _listed(worklist_warehouse, "status in ('due_now', 'closing_within_14_days')")
    assert main(["worklist", str(out), "--due-within", "1"]) == 0
    due_tomorrow = {(r["person_id"], r["measure_id"]) for r in _read(out)} - due_now
    assert {p for p, m in due_tomorrow} == {"opens_tomorrow", "fusion_opens_tomorrow"}
    assert {r["status"] for r in _read(out)} == {"due_now", "closing_within_14_days", "not_yet_due"}


@pytest.mark.parametrize("where", ["published/worklist.csv", "published_versions/v1/worklist.csv",
                                   "published.duckdb", "qpp_submissions/w.csv", "publications/v2/w.csv",
                                   "current/w.csv"])
def test_export_refuses_the_published_outputs(data_dir, where, capsys):
    (data_dir / "published_versions" / "v1").mkdir(parents=True, exist_ok=True)
    (data_dir / "qpp_submissions").mkdir(exist_ok=True)
    if not (data_dir / "published").exists():
        (data_dir / "published").symlink_to(data_dir / "published_versions" / "v1")
    assert main(["worklist", str(data_dir / where)]) == 2
    assert "never published" in capsys.readouterr().err
    assert not (data_dir / "published_versions" / "v1" / "worklist.csv").exists()


def test_export_refuses_bad_requests_with_a_reason(data_dir, tmp_path, monkeypatch, capsys):
    assert main(["worklist"]) == 2
    assert main(["worklist", str(tmp_path)]) == 2
    assert main(["worklist", str(tmp_path / "no_such_folder" / "w.csv")]) == 2
    assert main(["worklist", str(tmp_path / "w.csv"), "--due-within", "-1"]) == 2
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "empty"))
    assert main(["worklist", str(tmp_path / "w.csv")]) == 1
    errors = capsys.readouterr().err
    for reason in ("give the CSV file", "is a folder", "does not exist", "0 or more days", "run the pipeline first"):
        assert reason in errors
    assert not (tmp_path / "w.csv").exists()
    with pytest.raises(SystemExit):
        main(["run", str(tmp_path / "w.csv")])


@pytest.mark.parametrize("command", ["worklist", "export-cases"])
def test_both_exports_refuse_the_warehouse_and_a_missing_folder(data_dir, tmp_path, command, capsys):
    """The two identifier exports check their destination alike: the worklist could once be written over the
    warehouse file, and export-cases created any missing folders of a mistyped path."""
    warehouse = load_settings().warehouse_path
    before = warehouse.stat().st_mtime_ns
    assert main([command, str(warehouse)]) == 2
    assert warehouse.stat().st_mtime_ns == before
    assert main([command, str(tmp_path / "no_such_folder" / "cases.csv")]) == 2
    assert not (tmp_path / "no_such_folder").exists()
    errors = capsys.readouterr().err
    assert "is the pipeline's warehouse" in errors and "does not exist" in errors


def test_worklist_export_dir_setting(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    assert load_settings(env).worklist_export_dir is None
    assert load_settings({**env, "WORKLIST_EXPORT_DIR": str(tmp_path / "exports")}).worklist_export_dir == (
        tmp_path / "exports")
    (tmp_path / "a_file").write_text("")
    for bad, reason in (("exports", "absolute path"), (str(tmp_path / "a_file"), "not a folder"),
                        (str(tmp_path / "published" / "x"), "published outputs")):
        with pytest.raises(ValueError, match=reason):
            load_settings({**env, "WORKLIST_EXPORT_DIR": bad})


def test_weekly_schedule_is_off_and_skips_without_a_folder(data_dir, tmp_path, monkeypatch):
    assert weekly_worklist_export.default_status == dg.DefaultScheduleStatus.STOPPED
    assert isinstance(weekly_worklist_export(dg.build_schedule_context()), dg.SkipReason)
    monkeypatch.setenv("WORKLIST_EXPORT_DIR", str(tmp_path / "exports"))
    assert isinstance(weekly_worklist_export(dg.build_schedule_context()), dg.RunRequest)


def test_export_job_writes_the_dated_file(worklist_warehouse, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKLIST_EXPORT_DIR", str(tmp_path / "exports"))
    result = worklist_export_job.execute_in_process(resources={"warehouse": WarehouseResource(data_dir=str(data_dir))})
    assert result.success
    written = tmp_path / "exports" / f"follow_up_worklist_{AS_OF}.csv"
    assert len(_read(written)) == _listed(worklist_warehouse)


def _evaluate_check(data_dir: Path) -> dg.AssetCheckEvaluation:
    stand_ins = [dg.AssetSpec(key) for key in ("follow_up_worklist", "measure_cases", "follow_up_counts")]
    result = dg.materialize(
        [*stand_ins, worklist_agrees_with_cases],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
        selection=dg.AssetSelection.checks(worklist_agrees_with_cases),
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_check_passes_with_counts_and_no_identifiers(worklist_warehouse, data_dir):
    evaluation = _evaluate_check(data_dir)
    assert evaluation.passed
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    expected = {}
    for measure, status, n in worklist_warehouse.query(
            "select measure_id, status, count(*) from marts.follow_up_worklist group by all"):
        expected.setdefault(measure, {})[status] = n
    assert metadata["cases_by_measure_and_status"] == expected
    assert metadata["as_of_date"] == AS_OF.isoformat()
    persons = {p for (p,) in worklist_warehouse.query("select person_id from marts.follow_up_worklist")}
    assert not any(p in str(metadata) for p in persons)


def test_check_fails_when_an_open_case_is_missing(worklist_warehouse, tmp_path):
    shutil.copy(worklist_warehouse.path, tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("delete from marts.follow_up_worklist where person_id = 'opens_today' and measure_id = '459'")
    evaluation = _evaluate_check(tmp_path)
    assert not evaluation.passed
    assert evaluation.metadata["unlisted_open_cases"].value == 1


def test_run_summary_prints_the_worklist_counts(worklist_warehouse, data_dir, capsys):
    print_summary(load_settings(), 0, 0.0)
    out = capsys.readouterr().out
    assert "Follow-up worklist" in out
    closing = _listed(worklist_warehouse, "measure_id = '459' and status = 'closing_within_14_days'")
    assert ["459", "closing_within_14_days", str(closing)] in [line.split() for line in out.splitlines()]
