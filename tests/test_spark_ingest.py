"""Ingestion on Spark (WAREHOUSE=spark) by the same rules as on DuckDB: every kind of the bad-input matrix meets
the same outcome with the same counts (read = loaded + quarantined per file), the rows loaded, quarantined and warned
are the same typed values on both warehouses, and the required-data check blocks an empty claims table.
(`tests/bad_input_matrix.py` runs the whole matrix, file kinds included, on Spark through run_matrix's `connect`:
about 9 minutes on 2 busy cores, too long for every `make test`.)"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bad_input_matrix import CLAIM_HEADER, GOOD, OBS_GOOD, OBS_HEADER, ROW_KINDS
from orchestration.checks.required_data import required_rows_problems
from orchestration.ingest.ledger import create_ledger
from orchestration.ingest.loader import load_delivery
from orchestration.raw_schema import quarantine_table, raw_table, warnings_table

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]

TABLES = [f(t) for t in ("medical_claim", "observation") for f in (raw_table, quarantine_table, warnings_table)]


def _one_delivery_per_table(folder: Path) -> dict[str, Path]:
    """Every row kind of the matrix in one file per table (a Spark load costs seconds; the file kinds are the
    shared readers' business, the same code on both warehouses)."""
    files = {}
    for table, header, good in (("medical_claim", CLAIM_HEADER, GOOD), ("observation", OBS_HEADER, OBS_GOOD)):
        rows = [r.replace(b"C1,", f"K{i},".encode(), 1)  # a claim of its own, or it would be a version of another
                for i, k in enumerate(ROW_KINDS) if k.table == table and k.newline == b"\n" and k.header is None
                for r in k.rows if not r.endswith(b"\r")]
        path = folder / table / "2024-01.csv"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"\n".join([header.encode(), good.encode(), *rows]) + b"\n")
        files[table] = path
    return files


def test_every_row_rule_gives_the_same_rows_on_spark(tmp_path, spark_warehouse):
    spark_warehouse.reset()
    con = spark_warehouse.con
    assert required_rows_problems(con, "medical_claim", 0.5)[0], "an empty claims table must block on Spark too"

    files = _one_delivery_per_table(tmp_path / "landing")
    duck = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    reports = {}
    for table, path in files.items():
        expected = load_delivery(duck, table, "2024-01", [path], tmp_path / "landing")
        reports[table] = load_delivery(con, table, "2024-01", [path], tmp_path / "landing")
        assert reports[table] == expected
        assert reports[table].read == reports[table].loaded + reports[table].quarantined
    claims = reports["medical_claim"]
    assert {"bad_date", "missing_key", "bad_number", "duplicate_line", "conflicting_versions",
            "control_character"} <= set(claims.by_rule)
    assert {"unknown_code_format", "bad_number"} <= set(claims.warned_by_rule)

    for table in TABLES:
        columns = [c[0] for c in duck.execute(f"select * from {table} limit 0").description if c[0] != "_loaded_at"]
        picked = ", ".join(f'"{c}"' for c in columns)
        duck.register("spark_rows", spark_warehouse.spark.table(table).select(*columns).toArrow())
        only_duckdb = duck.execute(f"select {picked} from {table} except all select * from spark_rows").fetchall()
        only_spark = duck.execute(f"select * from spark_rows except all select {picked} from {table}").fetchall()
        assert (only_duckdb, only_spark) == ([], []), table
        assert duck.execute(f"select count(*) from {table}").fetchone()[0] > 0 or table == "raw.observation__warnings"
    duck.close()


def test_a_delivery_loaded_again_replaces_its_partitions(tmp_path, spark_warehouse):
    """A delivery's second load replaces its rows, quarantine and ledger entry (no duplicates, ledger reconciles)."""
    spark_warehouse.reset()
    con = spark_warehouse.con
    create_ledger(con)
    folder = tmp_path / "medical_claim"
    folder.mkdir()
    path = folder / "2024-01.csv"
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1"
    path.write_text(f"{header}\nC0,1,P0,2024-01-02,63030,M51.16\nC1,1,,2024-01-02,63030,M51.16\n")
    load_delivery(con, "medical_claim", "2024-01", [path], tmp_path)
    path.write_text(f"{header}\nC0,1,P0,2024-01-02,63030,M51.16\nC2,1,P2,2024-01-03,63030,M51.16\n"
                    "C3,1,,2024-01-02,63030,M51.16\n")
    report = load_delivery(con, "medical_claim", "2024-01", [path], tmp_path)
    assert (report.read, report.loaded, report.quarantined) == (3, 2, 1)
    counts = con.execute(
        "select (select count(*) from raw.medical_claim), (select count(*) from raw.medical_claim__quarantine), "
        "(select count(*) from raw._deliveries), (select sum(rows_read) from raw._deliveries)").fetchone()
    assert tuple(counts) == (2, 1, 1, 3)
