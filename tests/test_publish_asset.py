"""The Dagster asset on a hand-made warehouse: materializes, reports tables and counts, no identifiers."""

import json

import dagster as dg
import pytest

from orchestration.assets.publish import published_tables
from orchestration.resources import WarehouseResource
from publish_support import build_warehouse

pytestmark = pytest.mark.xdist_group("publish_asset")


def test_asset_materializes_with_metadata_and_no_identifiers(tmp_path, monkeypatch):
    monkeypatch.delenv("CPT_DESCRIPTORS_FILE", raising=False)
    build_warehouse(tmp_path / "warehouse.duckdb", n_claims=600, n_cases=100)
    (tmp_path / "cpt_descriptors.csv").write_text("code,descriptor\n97110,Therapeutic exercise (user file)\n")
    result = dg.materialize([published_tables], resources={"warehouse": WarehouseResource(data_dir=str(tmp_path))})
    assert result.success
    metadata = result.asset_materializations_for_node("published_tables")[0].metadata
    counts = metadata["row_counts"].value
    assert counts["code_overview"] > 0 and "measure_performance" in counts
    text = json.dumps({k: str(v.value) for k, v in metadata.items()})
    assert "'P1" not in text and "person" not in text.lower()
    assert (tmp_path / "published.duckdb").exists()
    import duckdb

    with duckdb.connect(str(tmp_path / "published.duckdb"), read_only=True) as con:
        descriptor = con.execute("select descriptor from code_catalog where code = '97110'").fetchone()[0]
        qdc = con.execute("select descriptor from code_catalog where code = 'G2137'").fetchone()[0]
    assert descriptor == "Therapeutic exercise (user file)"
    assert qdc.startswith("Back pain")
