"""Which files make up which delivery: shared by the landing sensor and the headless run.

Layouts accepted: LANDING_DIR/<table>/*.csv|*.parquet (one folder per table) and LANDING_DIR/<table>*.csv|
*.parquet (flat, one file per table as Tuva users often drop them). A delivery (partition key) is the month
YYYY-MM found in the file name, else the file stem.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import dagster as dg

from orchestration.contract import FILE_FORMATS, TABLES
from orchestration.partitions import delivery_partitions

Deliveries = dict[str, dict[str, list[Path]]]

_MONTH_DASHED = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_](0[1-9]|1[0-2])(?!\d)")
_MONTH_COMPACT = re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(?:\d{2})?(?!\d)")
_HASH_CHUNK = 8 * 1024 * 1024


def delivery_key(path: Path) -> str:
    for pattern in (_MONTH_DASHED, _MONTH_COMPACT):
        match = pattern.search(path.stem)
        if match:
            return f"{match.group(1)}-{match.group(2)}"
    return path.stem


def _is_data_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in FILE_FORMATS and not path.name.startswith(".")


def _flat_table(path: Path) -> str | None:
    """The table a flat-layout file belongs to: the longest table name its stem starts with."""
    stem = path.stem.lower()
    matches = [t for t in TABLES if stem == t or stem.startswith(f"{t}_") or stem.startswith(f"{t}-")]
    return max(matches, key=len) if matches else None


def discover_files(landing_dir: Path) -> list[tuple[str, Path]]:
    """(table, path) for every landing file, sorted so that load order is reproducible."""
    landing_dir = Path(landing_dir)
    found: list[tuple[str, Path]] = []
    if not landing_dir.is_dir():
        return found
    for table in TABLES:
        folder = landing_dir / table
        if folder.is_dir():
            found += [(table, p) for p in sorted(folder.iterdir()) if _is_data_file(p)]
    for path in sorted(landing_dir.iterdir()):
        table = _flat_table(path) if _is_data_file(path) else None
        if table:
            found.append((table, path))
    return found


def discover_deliveries(landing_dir: Path) -> Deliveries:
    """{partition_key: {table: [paths]}} for every file under LANDING_DIR."""
    deliveries: Deliveries = {}
    for table, path in discover_files(landing_dir):
        deliveries.setdefault(delivery_key(path), {}).setdefault(table, []).append(path)
    return deliveries


def register_deliveries(instance: dg.DagsterInstance, landing_dir: Path) -> list[str]:
    """Add the partitions of new deliveries; returns the keys added."""
    known = set(instance.get_dynamic_partitions(delivery_partitions.name))
    new = sorted(set(discover_deliveries(landing_dir)) - known)
    if new:
        instance.add_dynamic_partitions(delivery_partitions.name, new)
    return new


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
