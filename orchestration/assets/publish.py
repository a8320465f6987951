"""The publication: one asset per published table, the QPP submission files and the site, built together by one
step (orchestration/publish/publisher.py: built aside, validated, switched in at once), so a reader never sees
tables of two versions.

Each table's materialization carries its row count, column schema, suppressed cells and a preview of a few rows
with suppressed cells (published tables hold no person, case or claim identifier: validate.py refuses them).
"""

import datetime as dt
import decimal
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from orchestration.publish.tables import BENCHMARK_POSITION, BENCHMARKS, PUBLISHED_TABLES, SPECS
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource, resolve_as_of_date
from orchestration.spark_warehouse import dialect, duckdb_extract, schema_tables

if TYPE_CHECKING:
    from orchestration.publish.publisher import PublishResult

PREFIX = "published"
GROUP = "publication"
PREVIEW_ROWS = 5
QPP = dg.AssetKey([PREFIX, "qpp_submissions"])
SITE = dg.AssetKey([PREFIX, "site"])

# The exact dbt models each published table is made from.
SOURCES = {
    **{name: [name] for name in SPECS},
    BENCHMARKS.name: ["measure_performance"],
    BENCHMARK_POSITION: [BENCHMARK_POSITION, "measure_performance"],
}
# score_pairs and rehab_episodes are not read, but their blocking GX checks (and measure_cases', and the worklist's)
# must gate the publication: a failed check there keeps the previous publication.
GATES = ["score_pairs", "rehab_episodes", "measure_cases", "follow_up_worklist"]


def table_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([PREFIX, name])


SPECS_OUT = [
    *(dg.AssetSpec(table_key(name), deps=SOURCES[name], group_name=GROUP, kinds={"duckdb", "parquet"},
                   description=f"Published {name} (small cells suppressed; docs/published_tables.md).")
      for name in PUBLISHED_TABLES),
    dg.AssetSpec(QPP, deps=["qpp_measurements", "measure_stratum_years", "qpp_measure_years",
                            "qpp_measure_strata", *GATES],
                 group_name=GROUP, kinds={"json"},
                 description="QPP submission JSON per TIN and performance year (exact counts; never public)."),
    dg.AssetSpec(SITE, deps=[table_key(name) for name in PUBLISHED_TABLES], group_name=GROUP, kinds={"html"},
                 description="The publication site (index, code and measure pages, CSV downloads, dbt docs), "
                             "rendered from the published (suppressed) tables; docs/publication_site.md."),
]


def _scalar(value):
    """A TableRecord value: str, int, float, bool or None."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _table_type(duckdb_type: str) -> str:
    return {"VARCHAR": "string", "BOOLEAN": "bool", "DOUBLE": "float", "DATE": "date"}.get(
        duckdb_type, "float" if duckdb_type.startswith("DECIMAL") else "int" if "INT" in duckdb_type else duckdb_type)


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    """Row count, column schema, suppressed cells and a preview of a few rows with a suppressed cell."""
    described = con.execute(f"describe {table}").fetchall()
    flags = [c for c, *_ in described if c.endswith("_suppressed")]
    values = [(c, t) for c, t, *_ in described if c not in flags]
    hidden = " + ".join(f"{f}::int" for f in flags) or "0"
    rows, cells = con.execute(f"select count(*), coalesce(sum({hidden}), 0) from {table}").fetchone()
    any_hidden = " or ".join(flags) or "false"
    hidden_list = (f"concat_ws(', ', {', '.join(f'case when {f} then {chr(39)}{f[:-11]}{chr(39)} end' for f in flags)})"
                   if flags else "''")
    preview = con.execute(
        f"select {', '.join(c for c, _ in values)}, {hidden_list} as suppressed_columns from {table} "
        f"where {any_hidden} order by all limit {PREVIEW_ROWS}"
    ).fetchall()
    schema = dg.TableSchema(columns=[dg.TableColumn(c, t) for c, t, *_ in described])
    preview_schema = dg.TableSchema(columns=[*(dg.TableColumn(c, _table_type(t)) for c, t in values),
                                             dg.TableColumn("suppressed_columns", "string")])
    names = [c for c, _ in values] + ["suppressed_columns"]
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": schema,
        "suppressed_cells": int(cells),
        "preview_suppressed_rows": dg.MetadataValue.table(
            records=[dg.TableRecord(dict(zip(names, map(_scalar, row)))) for row in preview], schema=preview_schema),
    }


def _results(result: "PublishResult") -> list[dg.MaterializeResult]:
    common = {"version": result.version}
    with duckdb.connect(str(result.db_path), read_only=True) as con:
        tables = [
            dg.MaterializeResult(asset_key=table_key(name), metadata={
                **common, **table_metadata(con, name),
                # publication by period: the units (a code's year ...) whose exact rows changed, suppressed again
                **({"suppression_units_redone": f"{result.units.units[name][0]} of {result.units.units[name][1]}"}
                   if name in result.units.units else {}),
                "parquet": dg.MetadataValue.path(str(result.dir_path / f"{name}.parquet"))})
            for name in PUBLISHED_TABLES
        ]
    qpp = dg.MaterializeResult(asset_key=QPP, metadata={
        **common,
        "directory": dg.MetadataValue.path(str(result.qpp_dir)),
        "files": result.qpp_files,
        # a file with a problem is skipped (the others are written); measure-years CMS does not define, or
        # defines with a metric type the pipeline does not compute, are not submitted
        "files_skipped": dg.MetadataValue.json(result.qpp_report.skipped),
        "not_submitted": dg.MetadataValue.json(result.qpp_report.not_submitted),
        "cases_not_submitted_without_tin": result.cases_without_tin,
    })
    site = dg.MaterializeResult(asset_key=SITE, metadata={
        **common, "index": dg.MetadataValue.path(str(result.dir_path / "site" / "index.html")),
        "pages": result.pages})
    return [*tables, qpp, site]


@dg.multi_asset(specs=SPECS_OUT, name="published_tables", pool=WAREHOUSE_POOL, can_subset=False,
                description="Build the whole publication aside, validate it, then switch it in at once.")
def published_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    # imported here, not at the code location's start-up: the site's pages bring matplotlib (~0.5 s), which
    # `spine-pipeline run` imports in the background during ingestion (orchestration/run.py, PUBLISH_IMPORTS)
    from orchestration.publish.publisher import publish

    data_dir = warehouse.settings.data_dir
    with warehouse.connect(read_only=True) as con:
        if dialect(con) == "spark":
            # the publication's DuckDB code on an extract of what it reads: the reporting models (built by dbt on
            # Spark), the registry and the case table (docs/deploy.md)
            inputs = [*schema_tables(con, "reporting", "reference"), "marts.measure_cases"]
            with duckdb_extract(con, inputs) as local:
                result = publish(local, data_dir, progress=context.log.info,
                                 as_of_date=resolve_as_of_date(con, warehouse.settings))
        else:
            result = publish(con, data_dir, progress=context.log.info,
                             as_of_date=resolve_as_of_date(con, warehouse.settings))
    context.log.info(f"published version {result.version}: {len(result.row_counts)} tables")
    for skipped in result.qpp_report.skipped:
        context.log.warning(f"QPP file {skipped['file']} not written: {'; '.join(skipped['problems'])}")
    yield from _results(result)


ASSETS = [published_tables]
