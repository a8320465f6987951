"""The publication multi-asset on a hand-made warehouse (with the real reporting models): one asset per published
table with its row count, column schema, suppressed cells and a preview of suppressed rows, no identifiers."""

import json

import dagster as dg
import duckdb
import pytest

from orchestration.assets.publish import QPP, SITE, published_tables, table_key
from orchestration.publish.tables import PUBLISHED_TABLES
from orchestration.resources import WarehouseResource
from publish_support import build_warehouse

pytestmark = pytest.mark.xdist_group("publish_asset")


def test_each_published_table_is_an_asset_with_counts_schema_and_a_preview_without_identifiers(tmp_path, monkeypatch):
    monkeypatch.setenv("AS_OF_DATE", "2024-12-31")  # the site heads its pages with it; this warehouse has no raw data
    cpt = tmp_path / "cpt_descriptors.csv"
    cpt.write_text("code,descriptor\n97110,Therapeutic exercise (user file)\n")
    build_warehouse(tmp_path / "warehouse.duckdb", n_claims=600, n_cases=100, cpt_file=cpt)
    result = dg.materialize([published_tables], resources={"warehouse": WarehouseResource(data_dir=str(tmp_path))})
    assert result.success
    materialized = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert set(materialized) == {*(table_key(t) for t in PUBLISHED_TABLES), QPP, SITE}

    with duckdb.connect(str(tmp_path / "published.duckdb"), read_only=True) as con:
        for table in PUBLISHED_TABLES:
            metadata = materialized[table_key(table)]
            rows = con.execute(f"select count(*) from {table}").fetchone()[0]
            assert metadata["dagster/row_count"].value == rows
            columns = [c.name for c in metadata["dagster/column_schema"].value.columns]
            assert columns == [r[0] for r in con.execute(f"describe {table}").fetchall()]
            flags = [c for c in columns if c.endswith("_suppressed")]
            hidden = con.execute(f"select coalesce(sum({' + '.join(f'{f}::int' for f in flags) or '0'}), 0) "
                                 f"from {table}").fetchone()[0]
            assert metadata["suppressed_cells"].value == hidden
            preview = metadata["preview_suppressed_rows"].value.records
            assert len(preview) == min(5, con.execute(
                f"select count(*) from {table} where {' or '.join(flags) or 'false'}").fetchone()[0])
            assert all(r.data["suppressed_columns"] for r in preview)
        descriptor = con.execute("select descriptor from code_catalog where code = '97110'").fetchone()[0]
        qdc = con.execute("select descriptor from code_catalog where code = 'G2137'").fetchone()[0]
    assert materialized[table_key("code_by_payer")]["suppressed_cells"].value > 0, "the fixture has small cells"
    text = json.dumps({str(k): {n: str(v.value) for n, v in m.items()} for k, m in materialized.items()})
    assert "'P1" not in text and "person_id" not in text and "claim_id" not in text
    assert descriptor == "Therapeutic exercise (user file)"
    assert qdc.startswith("Back pain")
