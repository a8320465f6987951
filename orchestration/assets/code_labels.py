"""Code labels the reporting models join but SQL cannot make: ICD-10-CM descriptions (from the
simple_icd_10_cm package) and the CPT descriptors of a file the user supplies (AMA-licensed: never bundled).

Written into the warehouse schema `labels` (dbt source `labels`) by the dbt step, right before dbt runs, whenever
the step builds a model that reads them; so the reporting models carry the labels with lineage, contracts and
tests, and the publisher only suppresses.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import icd10_cm
from orchestration.resources import WarehouseResource
from orchestration.spark_warehouse import dialect

SCHEMA = "labels"
CPT_DESCRIPTORS_ENV = "CPT_DESCRIPTORS_FILE"
CPT_DESCRIPTORS_DEFAULT_NAME = "cpt_descriptors.csv"


def cpt_descriptor_file(data_dir: Path) -> Path | None:
    """CPT descriptors are AMA-licensed: used only when the user supplies a file (env var, or DATA_DIR default)."""
    configured = os.environ.get(CPT_DESCRIPTORS_ENV, "").strip()
    if configured:
        return Path(configured)
    default = data_dir / CPT_DESCRIPTORS_DEFAULT_NAME
    return default if default.is_file() else None


def write_icd10_cm(con: duckdb.DuckDBPyConnection) -> int:
    """Every ICD-10-CM item without the dot (as staging stores diagnoses) with its description. Rewritten only
    when the package version differs from the one the table was written from (orchestration/icd10_cm.py: the
    list comes from a cache per package version, not from parsing the package's XML on every new warehouse)."""
    version = icd10_cm.version()
    con.execute(f"create schema if not exists {SCHEMA}")
    written = con.execute(
        "select comment from duckdb_tables() where schema_name = ? and table_name = 'icd10_cm'", [SCHEMA]
    ).fetchall()
    if written and written[0][0] == version:
        return con.execute(f"select count(*) from {SCHEMA}.icd10_cm").fetchone()[0]
    table = icd10_cm.items().select(["diagnosis_code", "diagnosis_description"])
    con.register("icd10_cm_arrow", table)
    try:
        con.execute(f"create or replace table {SCHEMA}.icd10_cm as select * from icd10_cm_arrow")
    finally:
        con.unregister("icd10_cm_arrow")
    con.execute(f"comment on table {SCHEMA}.icd10_cm is '{version}'")
    return table.num_rows


def write_cpt_descriptors(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """The user's CPT file (columns code, descriptor) as one row per upper-cased code; empty without a file."""
    con.execute(f"create schema if not exists {SCHEMA}")
    if path is None:
        con.execute(f"create or replace table {SCHEMA}.cpt_descriptors (code varchar, descriptor varchar)")
        return 0
    if not path.is_file():
        raise FileNotFoundError(f"CPT descriptor file {path} does not exist")
    columns = {c.lower() for c in con.sql(
        f"select * from read_csv('{path}', header = true, all_varchar = true) limit 0").columns}
    if not {"code", "descriptor"} <= columns:
        raise ValueError(f"CPT descriptor file {path} needs columns 'code' and 'descriptor', has {sorted(columns)}")
    con.execute(
        f"""
        create or replace table {SCHEMA}.cpt_descriptors as
        select upper(trim(code)) as code, min(descriptor) as descriptor
        from read_csv(?, header = true, all_varchar = true)
        where nullif(trim(code), '') is not null
        group by 1
        """,
        [str(path)],
    )
    return con.execute(f"select count(*) from {SCHEMA}.cpt_descriptors").fetchone()[0]


def write_code_labels(con: duckdb.DuckDBPyConnection, cpt_file: Path | None) -> dict[str, int]:
    if dialect(con) == "spark":
        return _write_code_labels_to_spark(con, cpt_file)
    return {"icd10_cm": write_icd10_cm(con), "cpt_descriptors": write_cpt_descriptors(con, cpt_file)}


def _write_code_labels_to_spark(con, cpt_file: Path | None) -> dict[str, int]:
    """WAREHOUSE=spark: the same tables made in an in-memory DuckDB, then written to Spark (Parquet, replaced)."""
    with duckdb.connect() as local:
        rows = {"icd10_cm": write_icd10_cm(local), "cpt_descriptors": write_cpt_descriptors(local, cpt_file)}
        con.execute(f"create database if not exists {SCHEMA}")
        for table in rows:
            frame = con.spark.createDataFrame(local.sql(f"select * from {SCHEMA}.{table}").to_arrow_table())
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"{SCHEMA}.{table}")
    return rows


SPECS = [
    dg.AssetSpec([SCHEMA, "icd10_cm"], group_name="labels", kinds={"python", "duckdb"},
                 description="ICD-10-CM items and descriptions (simple_icd_10_cm, CMS FY2026 files); written by "
                             "the dbt step before the models that read it."),
    dg.AssetSpec([SCHEMA, "cpt_descriptors"], group_name="labels", kinds={"python", "duckdb"},
                 description="CPT descriptors from the user's licensed file ($CPT_DESCRIPTORS_FILE or "
                             "$DATA_DIR/cpt_descriptors.csv); empty without one. Written by the dbt step before the "
                             "models that read it."),
]
KEYS = frozenset(spec.key for spec in SPECS)


def write_labels(warehouse: WarehouseResource) -> Iterator[dg.AssetMaterialization]:
    """Write both tables and report them as materialized. Called by the dbt step (orchestration/assets/dbt_models.py)
    when it builds a model that reads them: an asset step of their own, upstream of dbt, made Dagster split a refit's
    dbt build in three instead of two (docs/performance.md, "Fixed costs")."""
    cpt_file = cpt_descriptor_file(warehouse.settings.data_dir)
    with warehouse.connect() as con:
        rows = write_code_labels(con, cpt_file)
    for table, n in rows.items():
        metadata = {"dagster/row_count": n}
        if table == "cpt_descriptors":
            metadata["file"] = str(cpt_file) if cpt_file else "none supplied"
        yield dg.AssetMaterialization(asset_key=[SCHEMA, table], metadata=metadata)


# External assets in the code location: their lineage, group and descriptions; the dbt step materializes them.
ASSETS = SPECS
