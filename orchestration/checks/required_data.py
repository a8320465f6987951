"""Required data present: publishing an empty claims table takes an explicit override.

For each required raw table (every table of the contract but the optional provider table: medical_claim,
eligibility for the birth dates that decide who qualifies, observation for every score) a check reports when the
table has no rows, or when its latest delivery loaded fewer rows than (1 - DELIVERY_DROP_MAX_SHARE) times the
delivery before it. Deliveries are ordered by key (undated ones first); a delivery whose every file was skipped as
a duplicate is not a delivery of new data and does not count.

What blocks: an empty medical_claim table (nothing to report on), and a drop only when DELIVERY_DROP_BLOCKS=true.
A drop warns by default because a history backfilled in one delivery followed by monthly increments, or a
delivery of corrections, is a large drop that is not an error. An empty eligibility or observation table warns:
the code-level tables are still right, and the measures say why their cases do not qualify or are not measured.
ALLOW_MISSING_REQUIRED_DATA=true turns every failure into a warning.

The checks run in the refresh and refit jobs, ahead of the dbt models, so a failure stops the run before
anything is built or published (exit code 2 from `spine-pipeline run`).
"""

import dagster as dg

from orchestration.contract import CONTRACTS, TableContract
from orchestration.ingest.discovery import scan_landing
from orchestration.ingest.ledger import LEDGER_TABLE, SKIPPED_DUPLICATE
from orchestration.raw_schema import raw_table
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.spark_warehouse import has_table

CHECK_NAME = "required_rows"
REQUIRED_TABLES = [c.name for c in CONTRACTS.values() if not c.optional_table]
# Tables whose emptiness blocks the publication (the others warn).
BLOCKING_WHEN_EMPTY = ("medical_claim",)


def latest_deliveries_sql() -> str:
    return f"""
        select delivery, sum(rows_loaded)::bigint as rows_loaded
        from {LEDGER_TABLE}
        where table_name = ? and status <> '{SKIPPED_DUPLICATE}'
        group by delivery
        order by delivery desc
        limit 2
    """


def required_rows_problems(con, table: str, max_drop_share: float,
                           drop_blocks: bool = False) -> tuple[list[str], bool, int, list[tuple]]:
    """(problems, whether one of them blocks, rows in the table, [(delivery, rows loaded)] of the latest two
    deliveries, newest first)."""
    exists = has_table(con, *raw_table(table).split("."))
    total = con.execute(f"select count(*) from {raw_table(table)}").fetchone()[0] if exists else 0
    latest = con.execute(latest_deliveries_sql(), [table]).fetchall() if has_table(con, *LEDGER_TABLE.split(".")) else []
    problems, blocking = [], False
    if total == 0:
        problems.append(f"raw.{table} has no rows")
        blocking = table in BLOCKING_WHEN_EMPTY
    if len(latest) == 2:
        (newest, n_new), (before, n_before) = latest
        if n_before and n_new < (1 - max_drop_share) * n_before:
            blocking = blocking or drop_blocks
            problems.append(
                f"raw.{table}: delivery {newest} loaded {n_new:,} rows, "
                f"{1 - n_new / n_before:.0%} fewer than delivery {before} ({n_before:,}); "
                f"DELIVERY_DROP_MAX_SHARE is {max_drop_share:g}"
            )
    return problems, blocking, total, latest


def required_rows_check(contract: TableContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", contract.name]),
        name=CHECK_NAME,
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"raw.{contract.name} has rows and its latest delivery did not drop by more than "
                    "DELIVERY_DROP_MAX_SHARE (an empty claims table blocks, so does a drop with "
                    "DELIVERY_DROP_BLOCKS=true; ALLOW_MISSING_REQUIRED_DATA=true to publish anyway)",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = warehouse.settings
        with warehouse.connect(read_only=True) as con:
            problems, blocking, total, latest = required_rows_problems(
                con, contract.name, settings.delivery_drop_max_share, settings.delivery_drop_blocks)
        unread = [n for n in scan_landing(settings.landing_dir).not_read if n.table == contract.name]
        if problems and unread:
            problems.append(f"{len(unread)} file(s) under LANDING_DIR seem meant for {contract.name} but were not "
                            f"read, e.g. {unread[0].path} ({unread[0].reason})")
        blocks = blocking and not settings.allow_missing_required_data
        if blocking:
            problems.append("set ALLOW_MISSING_REQUIRED_DATA=true to publish anyway" if blocks
                            else "ALLOW_MISSING_REQUIRED_DATA=true: not blocking")
        return dg.AssetCheckResult(
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR if blocks else dg.AssetCheckSeverity.WARN,
            description="; ".join(problems) or None,
            metadata={
                "rows": dg.MetadataValue.int(total),
                "latest_deliveries": dg.MetadataValue.json({d: n for d, n in latest}),
                "max_drop_share": dg.MetadataValue.float(settings.delivery_drop_max_share),
                "drop_blocks": dg.MetadataValue.bool(settings.delivery_drop_blocks),
                "override": dg.MetadataValue.bool(settings.allow_missing_required_data),
            },
        )

    return _check


CHECKS = [required_rows_check(CONTRACTS[t]) for t in REQUIRED_TABLES]
CHECK_KEYS = [dg.AssetCheckKey(dg.AssetKey(["raw", t]), CHECK_NAME) for t in REQUIRED_TABLES]
