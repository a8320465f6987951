"""One asset per raw table, partitioned by delivery: load the delivery's landing files into raw.<table>.

A run may carry several deliveries (single-run backfill): each is loaded and committed on its own, in
partition-key order (their files staged together and the rules run once over them: loader.load_deliveries).
Metadata carries counts, rule names, file names and column names only: never a value.
"""

import json
from collections import Counter

import dagster as dg

from orchestration.assets.dbt_models import MANIFEST
from orchestration.automation import raw_freshness_policy
from orchestration.contract import CONTRACTS, TABLES
from orchestration.ingest.discovery import discover_deliveries
from orchestration.ingest.loader import DeliveryReport, FileContractError, ReconciliationError, load_deliveries
from orchestration.jobs import RAW_GROUP
from orchestration.partitions import delivery_partitions
from orchestration.raw_schema import create_raw_tables
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource


def _files_table(reports: list[DeliveryReport]) -> str:
    lines = ["| delivery | file | status | read | loaded | quarantined | by rule | warned (loaded) | extra columns "
             "| note |", "|---|---|---|---|---|---|---|---|---|---|"]
    for report in reports:
        for f in report.files:
            rules = ", ".join(f"{k}: {v}" for k, v in f.by_rule.items()) or "-"
            warned = ", ".join(f"{k}: {v}" for k, v in f.warned_by_rule.items()) or "-"
            lines.append(f"| {report.delivery} | {f.file} | {f.status} | {f.read} | {f.loaded} | {f.quarantined} "
                         f"| {rules} | {warned} | {', '.join(f.extra_columns) or '-'} | {f.detail or '-'} |")
    return "\n".join(lines)


def _metadata(reports: list[DeliveryReport]) -> dict[str, dg.MetadataValue]:
    """Counts of the deliveries this run loaded; an unchanged delivery (not loaded again) is only named."""
    unchanged = [r.delivery for r in reports if r.unchanged_since is not None]
    reports = [r for r in reports if r.unchanged_since is None]
    by_rule: Counter[str] = Counter()
    warned_by_rule: Counter[str] = Counter()
    for report in reports:
        by_rule.update(report.by_rule)
        warned_by_rule.update(report.warned_by_rule)
    files = [f for r in reports for f in r.files]
    return {
        "deliveries": dg.MetadataValue.json([r.delivery for r in reports]),
        # offered again with the files and rules of their last load: their rows were left as they were
        "unchanged_deliveries": dg.MetadataValue.json(unchanged),
        "rows_read": dg.MetadataValue.int(sum(r.read for r in reports)),
        "rows_loaded": dg.MetadataValue.int(sum(r.loaded for r in reports)),
        "rows_quarantined": dg.MetadataValue.int(sum(r.quarantined for r in reports)),
        "quarantined_by_rule": dg.MetadataValue.json(dict(sorted(by_rule.items()))),
        "warned_by_rule": dg.MetadataValue.json(dict(sorted(warned_by_rule.items()))),
        "files": dg.MetadataValue.md(_files_table(reports)),
        "extra_columns": dg.MetadataValue.json(sorted({c for f in files for c in f.extra_columns})),
        "skipped_files": dg.MetadataValue.json(
            [{"file": f.file, "status": f.status, "reason": f.detail} for f in files if f.status != "loaded"]
        ),
    }


def _log_report(log, report: DeliveryReport) -> None:
    if report.unchanged_since is not None:
        log.info(f"{report.table} {report.delivery}: the files its load of {report.unchanged_since} read, under the "
                 "same rules: not loaded again")
        return
    for f in report.files:
        if f.status != "loaded":
            log.warning(f"{report.table} {report.delivery}: skipped {f.file} ({f.status}): {f.detail}")
            continue
        log.info(f"{report.table} {report.delivery}: {f.file}: read {f.read}, loaded {f.loaded}, "
                 f"quarantined {f.quarantined} {json.dumps(f.by_rule)}, loaded with warn-level gaps "
                 f"{json.dumps(f.warned_by_rule)}")
        if f.extra_columns:
            log.warning(f"{report.table} {report.delivery}: {f.file}: extra columns not loaded: "
                        f"{', '.join(f.extra_columns)}")
        if f.detail:
            log.warning(f"{report.table} {report.delivery}: {f.file}: {f.detail}")


def build_raw_asset(table: str) -> dg.AssetsDefinition:
    contract = CONTRACTS[table]

    @dg.asset(
        key=dg.AssetKey([RAW_GROUP, table]),
        group_name=RAW_GROUP,
        partitions_def=delivery_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=f"raw.{table}: {contract.grain}. Delivered rows, typed per the contract "
                    f"(docs/data_contract.md); rows breaking an error rule go to raw.{table}__quarantine, "
                    f"warn-level gaps of loaded rows to raw.{table}__warnings.",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        # the windows of dbt's source freshness on the rows' load times (models/staging/_sources.yml)
        freshness_policy=raw_freshness_policy(MANIFEST, table),
    )
    def _raw_table(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        deliveries = discover_deliveries(warehouse.settings.landing_dir)
        reports: list[DeliveryReport] = []
        todo = []
        for key in sorted(context.partition_keys):
            files = deliveries.get(key, {}).get(table, [])
            if files:
                todo.append((key, files))
            else:
                context.log.info(f"{table} {key}: no files in this delivery; raw.{table} left as is")
        with warehouse.connect() as con:
            create_raw_tables(con)
            loads = load_deliveries(con, table, todo, warehouse.settings.landing_dir)
            try:
                for report in loads:
                    _log_report(context.log, report)
                    reports.append(report)
            except (FileContractError, ReconciliationError) as exc:
                failed = todo[len(reports)][0]
                raise dg.Failure(description=f"{table} delivery {failed}: {exc}") from exc
        return dg.MaterializeResult(metadata=_metadata(reports))

    return _raw_table


ASSETS = [build_raw_asset(table) for table in TABLES]
