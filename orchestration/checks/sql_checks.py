"""DuckDB SQL checks on the raw tables (10M+ rows: aggregated in the warehouse, never loaded into pandas).

Per raw table: the contract key is unique within each delivery (warn: staging keeps the last line), the
quarantined share per delivery stays under the threshold in expectations/raw_sql_checks.json (warn), loaded
rows carry no warn-level gap (warn: a line without a code or a diagnosis, raw.<table>__warnings), and
the ledger raw._deliveries reconciles: read = loaded + quarantined, and the table holds what it says (error).
Metadata names deliveries and counts only.
"""

import json

import dagster as dg

from orchestration.contract import CONTRACTS, TableContract
from orchestration.ingest.ledger import LEDGER_TABLE, LOADED
from orchestration.raw_schema import quarantine_table, raw_table, warnings_table
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.settings import EXPECTATIONS_DIR

SHOWN = 10


def _thresholds() -> dict:
    return json.loads((EXPECTATIONS_DIR / "raw_sql_checks.json").read_text())["thresholds"]


def _table(rows: list[tuple], header: tuple[str, ...]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows[:SHOWN]]
    return dg.MetadataValue.md("\n".join(lines))


def duplicate_keys_sql(contract: TableContract) -> str:
    key = ", ".join(contract.key)
    # a nullable key column (a claim line's data_source) groups its NULLs as one value
    not_null = " and ".join(f"{k} is not null" for k in contract.required_key)
    return f"""
        select _delivery, count(*) as duplicated_keys, sum(n) - count(*) as extra_rows
        from (
            select _delivery, {key}, count(*) as n
            from {raw_table(contract.name)}
            where {not_null}
            group by all
            having count(*) > 1
        )
        group by _delivery
        order by extra_rows desc
    """


def quarantine_share_sql(contract: TableContract) -> str:
    return f"""
        with loaded as (select _delivery, count(*) as n from {raw_table(contract.name)} group by _delivery),
        quarantined as (select _delivery, count(*) as n from {quarantine_table(contract.name)} group by _delivery)
        select
            _delivery,
            coalesce(quarantined.n, 0) as quarantined,
            coalesce(loaded.n, 0) + coalesce(quarantined.n, 0) as read,
            round(coalesce(quarantined.n, 0) / (coalesce(loaded.n, 0) + coalesce(quarantined.n, 0)), 4) as share
        from loaded
        full join quarantined using (_delivery)
        order by share desc
    """


def warnings_by_rule_sql(contract: TableContract) -> str:
    return f"""
        select rule, column_name, count(*) as rows, count(distinct _delivery) as deliveries
        from {warnings_table(contract.name)}
        group by all
        order by rows desc, rule
    """


def ledger_mismatch_sql(contract: TableContract) -> str:
    """Deliveries whose ledger does not add up, or whose table rows differ from what the ledger says loaded."""
    return f"""
        with ledger as (
            select delivery, sum(rows_read) as read, sum(rows_loaded) as loaded,
                   sum(rows_quarantined) as quarantined
            from {LEDGER_TABLE}
            where table_name = '{contract.name}' and status = '{LOADED}'
            group by delivery
        ),
        in_table as (select _delivery as delivery, count(*) as n from {raw_table(contract.name)} group by all),
        in_quarantine as (
            select _delivery as delivery, count(*) as n from {quarantine_table(contract.name)} group by all
        )
        select delivery, ledger.read, ledger.loaded, ledger.quarantined,
               coalesce(in_table.n, 0) as rows_in_table, coalesce(in_quarantine.n, 0) as rows_in_quarantine
        from ledger
        full join in_table using (delivery)
        full join in_quarantine using (delivery)
        where ledger.read is distinct from ledger.loaded + ledger.quarantined
           or ledger.loaded is distinct from coalesce(in_table.n, 0)
           or ledger.quarantined is distinct from coalesce(in_quarantine.n, 0)
        order by delivery
    """


def raw_table_checks(contract: TableContract) -> list[dg.AssetChecksDefinition]:
    asset = dg.AssetKey(["raw", contract.name])

    @dg.asset_check(asset=asset, name="key_unique_per_delivery", description=f"{contract.key} unique per delivery",
                    pool=WAREHOUSE_POOL)
    def key_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            rows = con.sql(duplicate_keys_sql(contract)).fetchall()
        return dg.AssetCheckResult(
            passed=not rows,
            severity=dg.AssetCheckSeverity.WARN,
            description=(f"{len(rows)} deliveries hold a key ({', '.join(contract.key)}) more than once"
                         if rows else None),
            metadata={
                "key": dg.MetadataValue.text(", ".join(contract.key)),
                "deliveries_with_duplicates": dg.MetadataValue.int(len(rows)),
                "extra_rows": dg.MetadataValue.int(sum(r[2] for r in rows)),
                "worst_deliveries": _table(rows, ("delivery", "duplicated keys", "extra rows")),
            },
        )

    @dg.asset_check(asset=asset, name="quarantine_share", description="quarantined share per delivery under threshold",
                    pool=WAREHOUSE_POOL)
    def quarantine_share(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        limit = _thresholds()["quarantine_share_max"]
        with warehouse.connect(read_only=True) as con:
            rows = con.sql(quarantine_share_sql(contract)).fetchall()
        over = [r for r in rows if r[3] > limit["value"]]
        return dg.AssetCheckResult(
            passed=not over,
            severity=dg.AssetCheckSeverity.WARN,
            description=(f"{len(over)} deliveries quarantined more than {limit['value']:.0%} of their rows "
                         f"(raw.{contract.name}__quarantine says why)" if over else None),
            metadata={
                "rule": dg.MetadataValue.text(limit["rule"]),
                "threshold": dg.MetadataValue.float(limit["value"]),
                "deliveries_over": dg.MetadataValue.int(len(over)),
                "max_share": dg.MetadataValue.float(float(rows[0][3]) if rows else 0.0),
                "deliveries": _table(rows, ("delivery", "quarantined", "read", "share")),
            },
        )

    @dg.asset_check(
        asset=asset, name="warn_level_gaps", pool=WAREHOUSE_POOL,
        description="loaded rows without a warn-level gap (docs/data_contract.md: severity per column)",
    )
    def warn_level_gaps(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            rows = con.sql(warnings_by_rule_sql(contract)).fetchall()
        return dg.AssetCheckResult(
            passed=not rows,
            severity=dg.AssetCheckSeverity.WARN,
            description=("loaded with warn-level gaps (raw." + contract.name + "__warnings): "
                         + ", ".join(f"{r[0]} ({r[1]}) {r[2]:,} rows" for r in rows)) if rows else None,
            metadata={
                "rows_with_gaps": dg.MetadataValue.int(sum(r[2] for r in rows)),
                "by_rule": dg.MetadataValue.json({f"{r[0]} ({r[1]})": r[2] for r in rows}),
                "rules": _table(rows, ("rule", "column", "rows", "deliveries")),
            },
        )

    @dg.asset_check(
        asset=asset, name="ledger_reconciles", blocking=True, pool=WAREHOUSE_POOL,
        description="raw._deliveries: read = loaded + quarantined, and the tables hold what it says",
    )
    def ledger_reconciles(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            rows = con.sql(ledger_mismatch_sql(contract)).fetchall()
        return dg.AssetCheckResult(
            passed=not rows,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "deliveries_not_reconciled": dg.MetadataValue.int(len(rows)),
                "mismatches": _table(
                    rows, ("delivery", "ledger read", "ledger loaded", "ledger quarantined", "in table", "in quarantine")
                ),
            },
        )

    return [key_unique, quarantine_share, warn_level_gaps, ledger_reconciles]


CHECKS = [check for contract in CONTRACTS.values() for check in raw_table_checks(contract)]
