"""Every landing file accounted for in the headless run's summary: read (per table), read with a note (the
encoding it was read in, when not UTF-8 ...), Parquet datasets' job markers (no data), read but skipped (and why, from the ledger raw._deliveries), not read
(and why, from discovery). File names only, never a value."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.ingest.discovery import not_read_lines, scan_landing
from orchestration.ingest.ledger import LEDGER_TABLE, LOADED

_LATEST_PER_FILE = f"""
    select table_name, delivery, source_file, status, detail from {LEDGER_TABLE}
    qualify row_number() over (partition by table_name, source_file order by loaded_at desc) = 1
    order by table_name, delivery, source_file
"""


def not_read_warning(landing_dir: Path) -> list[str]:
    not_read = scan_landing(landing_dir).not_read
    if not not_read:
        return []
    return [f"Warning: {len(not_read)} file(s) under {landing_dir} are not read:", *not_read_lines(not_read)]


def landing_summary(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> list[str]:
    rows = con.execute(_LATEST_PER_FILE).fetchall()
    read: dict[str, list[str]] = {}
    for table, _, source_file, status, _ in rows:
        if status == LOADED:
            read.setdefault(table, []).append(source_file)
    lines = ["Files read: " + "; ".join(
        f"{table} {len(files)} ({files[0]}{' ... ' + files[-1] if len(files) > 1 else ''})"
        for table, files in read.items()
    )]
    skipped = [f"  {source_file}: {status} ({detail})" for _, _, source_file, status, detail in rows if status != LOADED]
    if skipped:
        lines += [f"Files skipped ({len(skipped)}):", *skipped]
    # how a file was read when it matters (another encoding than UTF-8 ...), and a header without rows
    noted = [f"  {source_file}: {detail}" for _, _, source_file, status, detail in rows if status == LOADED and detail]
    if noted:
        lines += [f"Files read with a note ({len(noted)}):", *noted[:20]]
        if len(noted) > 20:
            lines.append(f"  ... and {len(noted) - 20} more (ledger raw._deliveries, column detail)")
    landing = scan_landing(landing_dir)
    if landing.markers:
        names = [m.path for m in landing.markers]
        lines.append(f"Parquet datasets' job marker and checksum files (no data): {len(names)} "
                     f"({names[0]}{' ... ' + names[-1] if len(names) > 1 else ''})")
    if landing.not_read:
        lines += [f"Files not read ({len(landing.not_read)}):", *not_read_lines(landing.not_read)]
    return lines
