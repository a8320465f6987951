"""The landing sensor: new files register partitions and request one run each, keyed by content hash."""

import hashlib

import dagster as dg

from orchestration.sensors import landing_sensor
from orchestration.partitions import delivery_partitions


def _evaluate(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return landing_sensor(context)


def test_new_files_register_partitions_and_request_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDING_DIR", str(tmp_path))
    (tmp_path / "medical_claim").mkdir()
    claims = tmp_path / "medical_claim" / "2024-03.csv"
    claims.write_text("claim_id\nC1\n")
    (tmp_path / "eligibility.csv").write_text("person_id\nP1\n")
    instance = dg.DagsterInstance.ephemeral()

    result = _evaluate(instance)

    requested = {(r.partition_key, tuple(r.asset_selection[0].path), r.run_key) for r in result.run_requests}
    assert requested == {
        ("2024-03", ("raw", "medical_claim"), hashlib.sha256(claims.read_bytes()).hexdigest()),
        ("0000-eligibility", ("raw", "eligibility"), hashlib.sha256(b"person_id\nP1\n").hexdigest()),
    }
    assert [sorted(r.partition_keys) for r in result.dynamic_partitions_requests] == [["0000-eligibility", "2024-03"]]
    assert result.dynamic_partitions_requests[0].partitions_def_name == delivery_partitions.name

    instance.add_dynamic_partitions(delivery_partitions.name, ["2024-03", "0000-eligibility"])
    again = _evaluate(instance, result.cursor)
    assert again.run_requests == [] and again.dynamic_partitions_requests == []

    (tmp_path / "medical_claim" / "2024-04.csv").write_text("claim_id\nC2\n")
    later = _evaluate(instance, again.cursor)
    assert [r.partition_key for r in later.run_requests] == ["2024-04"]
    assert [r.partition_keys for r in later.dynamic_partitions_requests] == [["2024-04"]]


def test_a_file_not_read_requests_no_run_and_is_remembered_so_it_is_logged_once(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDING_DIR", str(tmp_path))
    (tmp_path / "medical_claim").mkdir()
    (tmp_path / "medical_claim" / "2024-03.xlsx").write_text("claim_id\tperson_id\n")
    instance = dg.DagsterInstance.ephemeral()
    result = _evaluate(instance)
    assert result.run_requests == []
    assert '"not read: medical_claim/2024-03.xlsx"' in result.cursor
    assert _evaluate(instance, result.cursor).cursor == result.cursor
