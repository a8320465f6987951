"""The published tables: code-level reporting tables, QPP submission JSON and one page per quality-data code."""

import os
from pathlib import Path

import dagster as dg

from orchestration.publish.publisher import publish
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.spark_warehouse import dialect, duckdb_extract, schema_tables

# WAREHOUSE=spark: the dbt layers the publication reads (staging claim lines, the case table, the registry)
PUBLICATION_INPUTS = ("staging", "marts", "reference")

CPT_DESCRIPTORS_ENV = "CPT_DESCRIPTORS_FILE"
CPT_DESCRIPTORS_DEFAULT_NAME = "cpt_descriptors.csv"


def cpt_descriptor_file(data_dir: Path) -> Path | None:
    """CPT descriptors are AMA-licensed: used only when the user supplies a file (env var, or DATA_DIR default)."""
    configured = os.environ.get(CPT_DESCRIPTORS_ENV, "").strip()
    if configured:
        return Path(configured)
    default = data_dir / CPT_DESCRIPTORS_DEFAULT_NAME
    return default if default.is_file() else None


# score_pairs and rehab_episodes are not read here, but they are deps so that their blocking GX checks gate
# publishing: they hold the evidence behind measure_cases, and a failed check there must keep the old publication.
@dg.asset(
    key=dg.AssetKey("published_tables"),
    deps=[
        dg.AssetKey("measure_cases"),
        dg.AssetKey("score_pairs"),
        dg.AssetKey("rehab_episodes"),
        dg.AssetKey("stg_medical_claim"),
        dg.AssetKey("stg_claim_diagnosis"),
        dg.AssetKey("stg_claim_modifier"),
        dg.AssetKey("stg_provider"),
        # the registry and CMS's data: outcome codes, QPP names and metric types per year, benchmarks
        dg.AssetKey("measure_codes"),
        dg.AssetKey("measure_stratum_years"),
        dg.AssetKey("qpp_measure_years"),
        dg.AssetKey("qpp_measure_strata"),
        dg.AssetKey("qpp_benchmarks"),
        dg.AssetKey("qpp_benchmark_deciles"),
        dg.AssetKey("qpp_scoring_rules"),
        # the worklist counts are published; its blocking check gates them
        dg.AssetKey("follow_up_counts"),
        dg.AssetKey("follow_up_worklist"),
    ],
    group_name="publish",
    pool=WAREHOUSE_POOL,
    description=(
        "Suppressed code-level and measure-level tables (published.duckdb + parquet), QPP submission JSON and "
        "one page per quality-data code; built aside, validated, then swapped in atomically."
    ),
)
def published_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    data_dir = warehouse.settings.data_dir
    with warehouse.connect(read_only=True) as con:
        if dialect(con) == "spark":
            # the publication's DuckDB SQL on an extract of the dbt layers it reads (docs/deploy.md)
            with duckdb_extract(con, schema_tables(con, *PUBLICATION_INPUTS)) as local:
                result = publish(local, data_dir, cpt_descriptor_file(data_dir), progress=context.log.info)
        else:
            result = publish(con, data_dir, cpt_descriptor_file(data_dir), progress=context.log.info)
    context.log.info(f"published version {result.version}: {len(result.row_counts)} tables")
    for skipped in result.qpp_report.skipped:
        context.log.warning(f"QPP file {skipped['file']} not written: {'; '.join(skipped['problems'])}")
    return dg.MaterializeResult(
        metadata={
            "version": result.version,
            "database": dg.MetadataValue.path(str(result.db_path)),
            "directory": dg.MetadataValue.path(str(result.dir_path)),
            "qpp_directory": dg.MetadataValue.path(str(result.qpp_dir)),
            "row_counts": dg.MetadataValue.json(result.row_counts),
            "tables": dg.MetadataValue.text(", ".join(sorted(result.row_counts))),
            "qpp_files": result.qpp_files,
            # a file with a problem is skipped (the others are written); measure-years CMS does not define, or
            # defines with a metric type the pipeline does not compute, are not submitted
            "qpp_files_skipped": dg.MetadataValue.json(result.qpp_report.skipped),
            "qpp_not_submitted": dg.MetadataValue.json(result.qpp_report.not_submitted),
            "pages": result.pages,
            "cases_not_submitted_without_tin": result.cases_without_tin,
        }
    )


ASSETS = [published_tables]
