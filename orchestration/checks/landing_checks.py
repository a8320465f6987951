"""Every file under LANDING_DIR is read or reported: a warning check per raw table lists the files that were not
read (unsupported format, misspelled folder, a name that is not a month, ...) and why.

A file is reported under the table it seems meant for (its folder, its name, or the closest table name);
files that seem meant for no table are reported under raw/medical_claim, the table every run needs.
Metadata names files under LANDING_DIR and reasons, never a value.
"""

import dagster as dg

from orchestration.contract import CONTRACTS, TableContract
from orchestration.ingest.discovery import scan_landing
from orchestration.resources import WarehouseResource

CATCH_ALL_TABLE = "medical_claim"
SHOWN = 50


def landing_files_check(contract: TableContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", contract.name]),
        name="landing_files_read",
        description=f"every file under LANDING_DIR meant for {contract.name} is read (warn: lists the others)",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        landing = scan_landing(warehouse.settings.landing_dir)
        ours = [n for n in landing.not_read
                if n.table == contract.name or (n.table is None and contract.name == CATCH_ALL_TABLE)]
        # Parquet datasets' job markers and checksums (_SUCCESS, .crc): recognised, no data, counted only
        markers = sum(1 for n in landing.markers if n.table == contract.name)
        rows = ["| not read | why |", "|---|---|"] + [f"| {n.path} | {n.reason} |" for n in ours[:SHOWN]]
        return dg.AssetCheckResult(
            passed=not ours,
            severity=dg.AssetCheckSeverity.WARN,
            description=("not read: " + "; ".join(f"{n.path} ({n.reason})" for n in ours[:5])
                         + (f"; and {len(ours) - 5} more" if len(ours) > 5 else "")) if ours else None,
            metadata={"files_not_read": dg.MetadataValue.int(len(ours)), "not_read": dg.MetadataValue.md("\n".join(rows)),
                      "dataset_marker_files": dg.MetadataValue.int(markers)},
        )

    return _check


CHECKS = [landing_files_check(contract) for contract in CONTRACTS.values()]
