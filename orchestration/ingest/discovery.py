"""Which files make up which delivery, and which files are not read and why. Shared by the landing sensor, the
ingest assets, the landing check and the headless run.

Layouts: LANDING_DIR/<table>/<file> (one folder per table) and LANDING_DIR/<table>[_suffix].<format> (flat, as
Tuva users often drop them). Formats read: .csv, .tsv, .psv, .txt (each also .gz, .zst), .parquet; a .txt only when
its first line names a required column of its table (a vendor's read-me is no delivery). Every other file or folder
under LANDING_DIR is *not read* and reported with its reason (run summary, warning check `landing_files_read`):
nothing there is passed over without a word.

Delivery (the partition key): the first date in the file name, as its month YYYY-MM (2025-03, 2025_03, 202503,
2025-03-15 and 20250315 all give 2025-03). A name whose date is not a real month or day (2025-13, 2025-02-30)
is not read. A name without a date is the undated delivery `0000-<name>`, which sorts before every dated one:
an undated file counts as the oldest data and never outranks a dated delivery (docs/data_contract.md).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import codecs

import dagster as dg
import pyarrow as pa

from orchestration.contract import CONTRACTS, FILE_FORMATS, FILE_FORMATS_TEXT, TABLES
from orchestration.partitions import delivery_partitions

Deliveries = dict[str, dict[str, list[Path]]]

UNDATED_PREFIX = "0000-"
# A year 19xx/20xx, a month and optionally a day, with one separator (-, _ or none) used throughout.
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})([-_]?)(\d{2})(?:\2(\d{2}))?(?!\d)")
_HASH_CHUNK = 8 * 1024 * 1024
_PEEK_BYTES = 64 * 1024
_FIELD_SEPARATORS = re.compile(r"[,\t|;]")


class BadDeliveryName(ValueError):
    """A file name carries a date that is not a real month or day."""


@dataclass(frozen=True)
class NotRead:
    path: str  # relative to LANDING_DIR; a folder ends with "/"
    reason: str
    table: str | None = None  # the table it seems meant for (None: no table)


@dataclass
class Landing:
    files: list[tuple[str, Path]] = field(default_factory=list)  # (table, path) of every file read
    not_read: list[NotRead] = field(default_factory=list)


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    return next((f for f in sorted(FILE_FORMATS, key=len, reverse=True) if name.endswith(f)), None)


def base_name(path: Path) -> str:
    """The file name without its format suffix (`2025-03.csv.gz` -> `2025-03`)."""
    fmt = file_format(path)
    return path.name[: -len(fmt)] if fmt else path.stem


def delivery_key(path: Path) -> str:
    name = base_name(path)
    match = _DATE.search(name)
    if not match:
        return UNDATED_PREFIX + name
    year, _, month, day = match.groups()
    if not 1 <= int(month) <= 12:
        raise BadDeliveryName(f"'{match.group(0)}' in the name is not a month (YYYY-MM, month 01-12)")
    if day is not None:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            raise BadDeliveryName(f"'{match.group(0)}' in the name is not a date") from None
    return f"{year}-{month}"


def _flat_table(path: Path) -> str | None:
    """The table a flat-layout file belongs to: the longest table name its name starts with."""
    stem = base_name(path).lower()
    matches = [t for t in TABLES if stem == t or stem.startswith(f"{t}_") or stem.startswith(f"{t}-")]
    return max(matches, key=len) if matches else None


def _closest_table(name: str) -> str | None:
    close = difflib.get_close_matches(re.split(r"[-_.]?(?:19|20)\d{2}", name.lower())[0], TABLES, n=1, cutoff=0.75)
    return close[0] if close else None


def _unsupported(path: Path) -> str:
    suffix = "".join(path.suffixes[-2:]) or "no extension"
    return f"format {suffix} is not read (read: {FILE_FORMATS_TEXT})"


def _not_a_table_text(path: Path, table: str) -> str | None:
    """Why a .txt file is no delivery of `table` (its first line that is not blank names none of the table's
    required columns, whatever the delimiter), or None. A file that cannot be peeked at is read: its load then
    fails naming it."""
    fmt = file_format(path) or ""
    if not fmt.startswith(".txt"):
        return None
    packing = "gzip" if fmt.endswith(".gz") else "zstd" if fmt.endswith(".zst") else None
    try:
        with pa.input_stream(str(path), compression=packing) as handle:
            probe = handle.read(_PEEK_BYTES)
    except (OSError, pa.ArrowException):
        return None
    encoding = "utf-16" if probe.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(probe)
    first = next((line for line in text.splitlines() if line.strip()), "")
    names = {n.strip().strip('"').strip().lower() for n in _FIELD_SEPARATORS.split(first)}
    contract = CONTRACTS[table]
    wanted = {n.lower() for c in contract.columns if c.required for n in (c.name, *c.aliases)}
    if names & wanted:
        return None
    return (f"a .txt file whose first line names no required column of {table} ({', '.join(contract.required)}): "
            "not a delimited export of the table (a delivery's first line is its header)")


def _judge_file(path: Path, rel: str, table: str, landing: Landing) -> None:
    if not path.is_file():
        landing.not_read.append(NotRead(rel, "not a regular file", table))
    elif path.name.startswith("."):
        landing.not_read.append(NotRead(rel, "hidden file", table))
    elif not file_format(path):
        landing.not_read.append(NotRead(rel, _unsupported(path), table))
    elif reason := _not_a_table_text(path, table):
        landing.not_read.append(NotRead(rel, reason, table))
    else:
        try:
            delivery_key(path)
        except BadDeliveryName as exc:
            landing.not_read.append(NotRead(rel, f"{exc}: rename it with its delivery month", table))
        else:
            landing.files.append((table, path))


def _not_read_tree(folder: Path, landing_dir: Path, reason: str, table: str | None, landing: Landing) -> None:
    files = sorted(p for p in folder.rglob("*") if not p.is_dir())
    if not files:
        landing.not_read.append(NotRead(folder.relative_to(landing_dir).as_posix() + "/", reason, table))
    for path in files:
        landing.not_read.append(NotRead(path.relative_to(landing_dir).as_posix(), reason, table))


def scan_landing(landing_dir: Path) -> Landing:
    """Every file under LANDING_DIR, either read (with its table) or not read (with the reason)."""
    landing_dir = Path(landing_dir)
    landing = Landing()
    if not landing_dir.is_dir():
        return landing
    for entry in sorted(landing_dir.iterdir()):
        # a table folder is named in any case (MEDICAL_CLAIM/), as flat files and column names are
        if entry.is_dir() and (table := entry.name.lower()) in TABLES:
            for path in sorted(entry.iterdir()):
                rel = path.relative_to(landing_dir).as_posix()
                if path.is_dir():
                    _not_read_tree(path, landing_dir, f"subfolder of {entry.name}/: files must sit directly in it",
                                   table, landing)
                else:
                    _judge_file(path, rel, table, landing)
        elif entry.is_dir():
            guess = _closest_table(entry.name)
            hint = f"; did you mean {guess}/?" if guess else ""
            _not_read_tree(entry, landing_dir, f"folder {entry.name}/ is not a table ({', '.join(TABLES)}){hint}",
                           guess, landing)
        elif table := _flat_table(entry):
            _judge_file(entry, entry.name, table, landing)
        else:
            guess = _closest_table(base_name(entry))
            hint = f"; did you mean {guess}?" if guess else ""
            landing.not_read.append(NotRead(
                entry.name, f"the name starts with no table name (flat files: <table>[_suffix].csv){hint}", guess))
    return landing


def discover_files(landing_dir: Path) -> list[tuple[str, Path]]:
    """(table, path) for every file read, sorted so that load order is reproducible."""
    return scan_landing(landing_dir).files


def discover_deliveries(landing_dir: Path) -> Deliveries:
    """{partition_key: {table: [paths]}} for every file read under LANDING_DIR."""
    deliveries: Deliveries = {}
    for table, path in discover_files(landing_dir):
        deliveries.setdefault(delivery_key(path), {}).setdefault(table, []).append(path)
    return deliveries


def not_read_lines(not_read: list[NotRead], shown: int = 20) -> list[str]:
    lines = [f"  {n.path}: {n.reason}" for n in not_read[:shown]]
    if len(not_read) > shown:
        lines.append(f"  ... and {len(not_read) - shown} more")
    return lines


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
