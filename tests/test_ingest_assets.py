"""The raw-table assets materialized through Dagster: partitions, metadata, failures, single-run ranges."""

import duckdb
import dagster as dg
import pytest

from orchestration.assets.ingest import ASSETS
from orchestration.partitions import delivery_partitions
from orchestration.resources import WarehouseResource

CLAIM_HEADER = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,extra_col"


@pytest.fixture
def env(tmp_path, monkeypatch):
    landing, data = tmp_path / "landing", tmp_path / "data"
    (landing / "medical_claim").mkdir(parents=True)
    monkeypatch.setenv("LANDING_DIR", str(landing))
    monkeypatch.setenv("DATA_DIR", str(data))
    instance = dg.DagsterInstance.ephemeral()
    return landing, data, instance, {"warehouse": WarehouseResource(data_dir=str(data))}


def _claims(landing, name, *rows):
    (landing / "medical_claim" / name).write_text("\n".join([CLAIM_HEADER, *rows]) + "\n")


def _count(data, sql):
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_materialize_one_delivery_reports_counts_without_values(env):
    landing, data, instance, resources = env
    _claims(landing, "2024-03.csv", "C1,1,P-SECRET,2024-03-01,63030,M51.16,x", "C2,1,P-SECRET,2024-99-01,63030,M51.16,x")
    instance.add_dynamic_partitions(delivery_partitions.name, ["2024-03"])
    result = dg.materialize(ASSETS, partition_key="2024-03", resources=resources, instance=instance)
    assert result.success
    metadata = {
        m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node("raw__medical_claim")
    }["medical_claim"]
    assert metadata["rows_read"].value == 2 and metadata["rows_loaded"].value == 1
    assert metadata["quarantined_by_rule"].value == {"bad_date": 1}
    assert metadata["extra_columns"].value == ["extra_col"]
    assert "P-SECRET" not in str({k: v.value for k, v in metadata.items()})
    assert _count(data, "SELECT count(*) FROM raw.medical_claim") == [(1,)]
    assert _count(data, "SELECT count(*) FROM raw.provider") == [(0,)]  # no files: table exists, empty


def test_missing_required_column_fails_the_run(env):
    landing, _, instance, resources = env
    (landing / "medical_claim" / "2024-03.csv").write_text("claim_id,claim_line_number\nC1,1\n")
    instance.add_dynamic_partitions(delivery_partitions.name, ["2024-03"])
    result = dg.materialize(ASSETS, partition_key="2024-03", resources=resources, instance=instance,
                            raise_on_error=False)
    assert not result.success
    failure = [e for e in result.all_events if e.is_step_failure][0]
    message = str(failure.step_failure_data.error)
    assert "person_id" in message and "2024-03.csv" in message and "docs/data_contract.md" in message


def test_single_run_backfill_loads_a_range_of_deliveries(env):
    landing, data, instance, resources = env
    _claims(landing, "2024-01.csv", "C1,1,P1,2024-01-05,63030,M51.16,x")
    _claims(landing, "2024-02.csv", "C2,1,P2,2024-02-05,63030,M51.16,x")
    instance.add_dynamic_partitions(delivery_partitions.name, ["2024-01", "2024-02"])
    result = dg.materialize(
        [a for a in ASSETS if a.key.path[-1] == "medical_claim"], resources=resources, instance=instance,
        tags={"dagster/asset_partition_range_start": "2024-01", "dagster/asset_partition_range_end": "2024-02"},
    )
    assert result.success
    assert _count(data, "SELECT _delivery, count(*) FROM raw.medical_claim GROUP BY 1 ORDER BY 1") == [
        ("2024-01", 1), ("2024-02", 1)]
