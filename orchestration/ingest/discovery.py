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

Parquet datasets (Spark, Hive, pyarrow, DuckDB write a folder of part files): a subfolder of a table folder, or a
flat-layout folder (`medical_claim_2025-03.parquet/`), that holds Parquet files and is marked as a dataset (a
`_SUCCESS` file, part-file names, or Hive `key=value` folders) is read: each part file is a file of the delivery its
folders name (the dataset folder's date, else Hive `year=`/`month=` folders or a dated partition value, else the
undated `0000-<folder>`). The job's marker and checksum files (`_SUCCESS`, `.crc`, `_committed_*`, `_started_*`,
`_metadata`) are recognised as such (`Landing.markers`), not reported as data not read. A dataset with a
`_temporary/` folder is being written: none of it is read until the job has finished.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text": UTF-16 with its byte-order mark


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
    markers: list[NotRead] = field(default_factory=list)  # Parquet datasets' job markers and checksums: no data
    deliveries: dict[Path, str] = field(default_factory=dict)  # the delivery of every file read


# Part-file names of the writers of Parquet datasets: Spark and pyarrow (part-00000-<uuid>..., part-0), dask
# (part.0), DuckDB and polars (data_0), Hive (000000_0)
_PART_FILE = re.compile(r"^(part[-.]|data_\d|\d+_\d+)", re.IGNORECASE)
# what the job that wrote a dataset leaves beside its parts: no data
_MARKER = re.compile(r"^(_SUCCESS|_committed_.*|_started_.*|_metadata|_common_metadata)$|\.crc$", re.IGNORECASE)
_HIVE = re.compile(r"^([^=]+)=(.*)$")
MARKER_REASON = "marker or checksum file of the job that wrote a Parquet dataset (no data)"


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    return next((f for f in sorted(FILE_FORMATS, key=len, reverse=True) if name.endswith(f)), None)


def compression(path: Path) -> str:
    """By the extension, whatever its case: discovery reads `2024-03.CSV.GZ`, which pyarrow's own detection took
    for plain text. As DuckDB's reader names it."""
    fmt = file_format(path) or ""
    return "gzip" if fmt.endswith(".gz") else "zstd" if fmt.endswith(".zst") else "none"


def open_decompressed(path: Path, packing: str | None = None):
    """A stream of the file's bytes, decompressed by its extension (or `packing`, as compression() names it)."""
    packing = packing or compression(path)
    return pa.input_stream(str(path), compression=None if packing == "none" else packing)


def base_name(path: Path) -> str:
    """The file name without its format suffix (`2025-03.csv.gz` -> `2025-03`)."""
    fmt = file_format(path)
    return path.name[: -len(fmt)] if fmt else path.stem


def delivery_key(path: Path) -> str:
    name = base_name(path)
    return _dated_key(name) or UNDATED_PREFIX + name


def _dated_key(name: str) -> str | None:
    """YYYY-MM of the first date in `name`, None without one; BadDeliveryName for a date that is not real."""
    match = _DATE.search(name)
    if not match:
        return None
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
    try:
        with open_decompressed(path) as handle:
            probe = handle.read(_PEEK_BYTES)
    except (OSError, pa.ArrowException):
        return None
    encoding = "utf-16" if probe.startswith(UTF16_BOMS) else "utf-8-sig"
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
            key = delivery_key(path)
        except BadDeliveryName as exc:
            landing.not_read.append(NotRead(rel, f"{exc}: rename it with its delivery month", table))
        else:
            landing.files.append((table, path))
            landing.deliveries[path] = key


def _dataset_delivery(top: str, folders: tuple[str, ...]) -> str:
    """The delivery of a dataset's part file from its folders, the dataset folder `top` first: the first date in a
    folder's name (`2025-03/`, `claims_2025-03.parquet/`), Hive `year=2025/month=3` folders, or a Hive value that
    is a date (`delivery_date=2025-03-15`); else the undated `0000-<top>`."""
    year = month = None
    for folder in (top, *folders):
        hive = _HIVE.match(folder)
        if not hive:
            key = _dated_key(folder.removesuffix(".parquet"))
        elif hive[1].lower() in ("year", "yr", "yyyy") and re.fullmatch(r"(?:19|20)\d{2}", hive[2]):
            year, key = hive[2], None
        elif hive[1].lower() in ("month", "mon", "mm") and re.fullmatch(r"\d{1,2}", hive[2]):
            if not 1 <= int(hive[2]) <= 12:
                raise BadDeliveryName(f"'{folder}' in the folders is not a month (01-12)")
            month, key = f"{int(hive[2]):02d}", None
        else:
            key = _dated_key(hive[2])
        if key:
            return key
        if year and month:
            return f"{year}-{month}"
    return UNDATED_PREFIX + top.removesuffix(".parquet")


def _is_dataset(folder: Path, fmt: str = ".parquet") -> bool:
    """A folder of Parquet (`fmt`: CSV) part files written by a job (not, say, an archive of earlier deliveries)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    parquet = [p for p in files if (file_format(p) or "").startswith(fmt)]
    return bool(parquet) and (
        any(p.name == "_SUCCESS" for p in files) or any(_PART_FILE.match(p.name) for p in parquet)
        or any(_HIVE.match(part) for p in parquet for part in p.relative_to(folder.parent).parts[:-1]))


def _judge_dataset(folder: Path, landing_dir: Path, table: str, landing: Landing) -> None:
    files = sorted(p for p in folder.rglob("*") if not p.is_dir())
    if (folder / "_temporary").is_dir():
        reason = (f"Parquet dataset {folder.name}/ is being written (its _temporary/ folder): read once the job "
                  "that writes it has finished")
        _not_read_tree(folder, landing_dir, reason, table, landing)
        return
    for path in files:
        rel = path.relative_to(landing_dir).as_posix()
        inner = path.relative_to(folder).parts[:-1]
        if _MARKER.search(path.name):
            landing.markers.append(NotRead(rel, MARKER_REASON, table))
        elif path.name.startswith("."):
            landing.not_read.append(NotRead(rel, "hidden file", table))
        elif file_format(path) != ".parquet":
            landing.not_read.append(NotRead(rel, f"in Parquet dataset {folder.name}/ but not a .parquet part file",
                                            table))
        else:
            try:
                key = _dataset_delivery(folder.name, inner)
            except BadDeliveryName as exc:
                landing.not_read.append(NotRead(rel, f"{exc}: name its folder with its delivery month", table))
                continue
            landing.files.append((table, path))
            landing.deliveries[path] = key


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
                if path.is_dir() and _is_dataset(path):
                    _judge_dataset(path, landing_dir, table, landing)
                elif path.is_dir() and _is_dataset(path, ".csv"):
                    _not_read_tree(path, landing_dir, f"{path.name}/ is a dataset of CSV part files (Spark writes them "
                                   "without a header): not read; write the dataset as Parquet, or put its files, "
                                   f"each with its header, directly in {entry.name}/", table, landing)
                elif path.is_dir():
                    _not_read_tree(path, landing_dir, f"subfolder of {entry.name}/: files must sit directly in it "
                                   "(or be a Parquet dataset: part files, _SUCCESS or Hive key=value folders)",
                                   table, landing)
                elif _MARKER.search(path.name):
                    landing.markers.append(NotRead(rel, MARKER_REASON, table))
                else:
                    _judge_file(path, rel, table, landing)
        elif entry.is_dir() and (table := _flat_table(entry)) and _is_dataset(entry):
            _judge_dataset(entry, landing_dir, table, landing)
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
    landing = scan_landing(landing_dir)
    deliveries: Deliveries = {}
    for table, path in landing.files:
        deliveries.setdefault(landing.deliveries[path], {}).setdefault(table, []).append(path)
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
