"""File-level checks and reading one landing file into the VARCHAR stage table with DuckDB's own readers.

Every value is read as text first, so that a bad value becomes a quarantine row rather than a failed cast.
A file that cannot be read as the contract describes (missing required column, wrong delimiter, header neither
UTF-8 nor Windows-1252) raises FileContractError naming the file, the problem and the contract document.

Encodings (docs/data_contract.md, "File formats"): a delimited file is read as UTF-8 (a byte-order mark is
tolerated). A UTF-16 byte-order mark (Excel's "Unicode text") makes it UTF-16. A file that is not UTF-8 and holds no
UTF-8 character at all, but whose every byte is a Windows-1252 character (a Windows export: Müller, Peña, Excel's
curly quotes and en dash), is read as Windows-1252. A file in another encoding than UTF-8 is converted to a UTF-8
copy (a temporary file, streamed) that DuckDB's reader reads; the file's ledger entry says which encoding was read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.contract import CONTRACT_DOC, TableContract
from orchestration.ingest.discovery import UTF16_BOMS, compression, file_format, open_decompressed
from orchestration.ingest.rules import MALFORMED_RULE, REJECT_RULES, q

STAGE_TABLE = "_ingest_stage"
REJECT_QUARANTINE = "_ingest_rejects"
_REJECTS = "_ingest_csv_reject_errors"
_REJECT_SCANS = "_ingest_csv_reject_scans"
DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
# the delimiter of each text format; .txt: the one of these that splits its header into the most names
FORMAT_DELIMITERS = {".csv": ",", ".tsv": "\t", ".psv": "|"}
TXT_DELIMITERS = (",", "\t", "|")
_HEADER_PROBE_BYTES = 1024 * 1024
_CHUNK_BYTES = 8 * 1024 * 1024
UTF8, UTF16, WINDOWS_1252 = "utf-8", "utf-16", "windows-1252"
_UTF8_BOM = b"\xef\xbb\xbf"
# the five bytes Windows-1252 leaves undefined: a file holding one is not Windows-1252
_NOT_WINDOWS_1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# decoded with errors="surrogateescape": a byte that is not UTF-8 becomes U+DC80..U+DCFF
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_UTF8_CHARACTER = re.compile("[^\x00-\x7f\udc80-\udcff]")
ENCODING_NOTES = {
    UTF16: "read as UTF-16 (byte-order mark; Excel's Unicode text)",
    WINDOWS_1252: "read as Windows-1252 (not UTF-8, no UTF-8 character in it, every byte a Windows-1252 character)",
}
_FRACTIONAL_DECIMAL = re.compile(r"DECIMAL\(\d+,[1-9]\d*\)")
# A binary float is read as the decimal of this many significant digits (DBL_DIG, FLT_DIG: every such decimal
# survives the trip through the type) when it lies within FLOAT_ARTIFACT_ULPS units in the last place of it: a float
# artifact of a computation (28.000000000000004 is 28). docs/data_contract.md, "Parquet".
FLOAT_DIGITS = {"DOUBLE": 15, "FLOAT": 6}
FLOAT_ARTIFACT_ULPS = 4
# A CSV has no NULL but the empty value; database exports write one of these words instead (SQL Server, Oracle:
# NULL; MySQL, Hive, PostgreSQL text: \N). A claim line date written NULL is no date, not a malformed one.
CSV_NULLS = ("", "NULL", "null", "Null", "\\N")


class FileContractError(Exception):
    """A delivered file does not follow the raw-data contract; the run must fail."""


@dataclass
class FileShape:
    """How a delivered file's columns map onto the contract."""
    column_map: dict[str, str]          # contract column -> delivered column
    extra_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the file was read, when it matters (its encoding ...)


def _fail(path: Path, message: str) -> FileContractError:
    return FileContractError(f"{path}: {message} (see {CONTRACT_DOC})")


def map_columns(path: Path, contract: TableContract, delivered: list[str]) -> FileShape:
    """Map delivered names (case-insensitive, aliases accepted) to contract columns; a missing required one fails."""
    by_lower = {name.strip().lower(): name for name in delivered}
    mapping: dict[str, str] = {}
    for col in contract.columns:
        for candidate in (col.name, *col.aliases):
            if candidate.lower() in by_lower:
                mapping[col.name] = by_lower[candidate.lower()]
                break
    missing = [c for c in contract.required if c not in mapping]
    if missing:
        raise _fail(path, f"required column(s) {', '.join(missing)} missing from the header of {contract.name}")
    used = set(mapping.values())
    return FileShape(mapping, [name for name in delivered if name not in used])


@dataclass(frozen=True)
class CsvHeader:
    names: list[str]
    blank_lines: int  # blank lines before the header: not records, the reader skips them
    compression: str  # as DuckDB's reader names it
    encoding: str = UTF8  # the file's encoding (UTF8, UTF16, WINDOWS_1252)
    delimiter: str = ","


def detect_encoding(path: Path, packing: str) -> str:
    """UTF8, or WINDOWS_1252 when the file is not UTF-8, holds no UTF-8 character (a valid multi-byte sequence) and
    every byte of it is a Windows-1252 character. A file holding UTF-8 characters and bytes that are not UTF-8 is a
    damaged UTF-8 file: its damaged lines are quarantined (invalid_utf8), the others read as UTF-8. One streamed
    pass over the (decompressed) file, only for a file whose UTF-8 reading found bytes that are not UTF-8."""
    decoder = codecs.getincrementaldecoder(UTF8)(errors="surrogateescape")
    not_utf8 = utf8_character = not_1252 = False
    try:
        with open_decompressed(path, packing) as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                if chunk.isascii() and not decoder.getstate()[0]:
                    continue
                text = decoder.decode(chunk)
                not_utf8 = not_utf8 or bool(_NOT_UTF8.search(text))
                utf8_character = utf8_character or bool(_UTF8_CHARACTER.search(text))
                not_1252 = not_1252 or bool(_NOT_WINDOWS_1252.search(chunk))
            not_utf8 = not_utf8 or bool(_NOT_UTF8.search(decoder.decode(b"", final=True)))
    except (OSError, pa.ArrowException) as exc:
        raise _fail(path, f"cannot be read or decompressed ({exc})") from exc
    return WINDOWS_1252 if not_utf8 and not utf8_character and not not_1252 else UTF8


@contextmanager
def utf8_copy(path: Path, header: CsvHeader) -> Iterator[Path]:
    """A temporary UTF-8 copy of a file in another encoding (decompressed), streamed; removed afterwards. Lines and
    line ends are kept, so line numbers are the file's."""
    decoder = codecs.getincrementaldecoder(header.encoding)(errors="strict")
    with tempfile.TemporaryDirectory(prefix="spine-ingest-") as folder:
        copy = Path(folder) / "utf8.csv"
        try:
            with open_decompressed(path, header.compression) as source, open(copy, "wb") as target:
                while chunk := source.read(_CHUNK_BYTES):
                    target.write(decoder.decode(chunk).encode(UTF8))
                target.write(decoder.decode(b"", final=True).encode(UTF8))
        except UnicodeDecodeError as exc:
            raise _fail(path, f"is not valid {header.encoding.upper()} ({exc.reason})") from exc
        except (OSError, pa.ArrowException) as exc:
            raise _fail(path, f"cannot be read or decompressed ({exc})") from exc
        yield copy


def _delimiter(path: Path, text: str) -> str:
    fmt = (file_format(path) or ".csv").split(".")[1]
    if f".{fmt}" in FORMAT_DELIMITERS:
        return FORMAT_DELIMITERS[f".{fmt}"]
    return max(TXT_DELIMITERS, key=lambda d: len(next(csv.reader(io.StringIO(text), delimiter=d), [])))


def read_csv_header(path: Path, contract: TableContract) -> CsvHeader | None:
    """The header (the first line that is not blank), or None when the file has none."""
    packing = compression(path)
    try:
        with open_decompressed(path, packing) as handle:
            probe = handle.read(_HEADER_PROBE_BYTES)
    except (OSError, pa.ArrowException) as exc:
        raise _fail(path, f"cannot be read or decompressed ({exc})") from exc
    encoding = UTF8
    if probe.startswith(UTF16_BOMS):
        encoding = UTF16
        try:  # the probe may end inside a character: the decoder keeps it for later
            lines = [line.encode(UTF8) for line in codecs.getincrementaldecoder(UTF16)().decode(probe).split("\n")]
        except UnicodeDecodeError as exc:
            raise _fail(path, f"starts with a UTF-16 byte-order mark but is not UTF-16 ({exc.reason})") from exc
    else:
        lines = probe.removeprefix(_UTF8_BOM).split(b"\n")
    blank_lines = next((i for i, line in enumerate(lines) if line.strip()), None)
    if blank_lines is None:
        return None  # no header at all (an empty file once decompressed, or blank lines): the loader skips it
    first_line = lines[blank_lines].rstrip(b"\r")
    if b"\r" in first_line:
        raise _fail(path, "its lines end with a carriage return only (CR, classic Mac OS); the contract requires "
                          "\\n or \\r\\n line ends")
    try:
        text = first_line.decode(UTF8)
    except UnicodeDecodeError as exc:
        if detect_encoding(path, packing) != WINDOWS_1252:
            raise _fail(path, f"the header is neither UTF-8 nor Windows-1252 (not UTF-8: {exc.reason} at byte "
                              f"{exc.start}; not Windows-1252: the file holds UTF-8 characters or a byte Windows-1252 "
                              "does not define)") from exc
        encoding, text = WINDOWS_1252, first_line.decode(WINDOWS_1252)
    delimiter = _delimiter(path, text)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error as exc:
        raise _fail(path, f"the header line cannot be parsed ({exc})") from exc
    if len(header) <= 1:
        for other, label in DELIMITERS.items():
            if other != delimiter and other in text and len(text.split(other)) > 1:
                raise _fail(path, f"the header looks {label}-delimited; the contract requires a "
                                  f"{DELIMITERS[delimiter]}-delimited {file_format(path) or '.csv'} file "
                                  "(.csv: comma, .tsv: tab, .psv: pipe; .txt: comma, tab or pipe)")
    return CsvHeader(_unique_names(path, contract, [h.strip() for h in header]), blank_lines, packing, encoding,
                     delimiter)


def _unique_names(path: Path, contract: TableContract, header: list[str]) -> list[str]:
    """Names DuckDB's reader accepts for every column (it refuses an empty name and a name given twice, case
    ignored). An unnamed column (a trailing comma on every line, as spreadsheets export) and a repeated name of an
    extra column are renamed and reported as extra columns; a contract column named twice is ambiguous: which of
    the two holds its values? The load fails naming it."""
    contract_names = {n.lower(): c.name for c in contract.columns for n in (c.name, *c.aliases)}
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"(unnamed column {position})"
        count = seen[name.lower()] = seen.get(name.lower(), 0) + 1
        if count > 1:
            if name.lower() in contract_names:
                raise _fail(path, f"column {name} appears twice in the header (as {contract_names[name.lower()]} "
                                  "of the contract): which one holds its values is ambiguous")
            name = f"{name} (column {position})"
        names.append(name)
    return names


def parquet_types(con: duckdb.DuckDBPyConnection, path: Path, hive: bool = False) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {_read_parquet(hive)}",
                                                  [str(path)]).fetchall()}


def _read_parquet(hive: bool, row_numbers: bool = False) -> str:
    """read_parquet of the file `?` / `$path`; `hive`: a part file of a Hive-partitioned dataset, whose partition
    columns (a folder `data_source=vendor_a/`) the writer took out of the file: they are read from its folders,
    as text."""
    options = (", file_row_number = true" if row_numbers else "") + \
        (", hive_partitioning = true, hive_types_autocast = false" if hive else "")
    return f"read_parquet({'$path' if row_numbers else '?'}{options})"


def hive_partitioned(rel: str) -> bool:
    """A file under a Hive `key=value` folder, below the landing folder (its name relative to it)."""
    return any(re.fullmatch(r"[^=]+=.*", part) for part in Path(rel).parts[:-1])


def _zone_shift(zone: str) -> str | None:
    """A fixed offset (`+05:30`, as Arrow writes one) as an interval from UTC; None for a zone name."""
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", zone)
    return match and f"INTERVAL '{'-' if match[1] == '-' else ''}{int(match[2]) * 60 + int(match[3])} minutes'"


def _parquet_text(value: str, parquet_type: str, zone: str) -> str:
    """A Parquet value as text, as a CSV would carry it. An empty string is no value (`,,`). A zoned timestamp (an
    instant) is written as its date-time in `zone`, the zone the writer kept in the file (pandas, pyarrow), else
    UTC: as a CSV's offset keeps the date as written, and never in the session's TimeZone, which would make the
    date depend on the machine the pipeline runs on. A whole number typed FLOAT, DOUBLE or DECIMAL with decimals
    is written as the integer: pandas writes an integer column with a missing value as float64, and the person
    10046 must not become `10046.0` (an identifier is compared as text)."""
    if parquet_type.startswith("TIMESTAMPTZ") or parquet_type.endswith("WITH TIME ZONE"):
        shift = _zone_shift(zone)
        local = f"timezone('UTC', {value}) + {shift}" if shift else f"timezone('{zone}', {value})"
        return f"CAST({local} AS VARCHAR)"
    if parquet_type in ("FLOAT", "DOUBLE") or _FRACTIONAL_DECIMAL.fullmatch(parquet_type):
        # NaN and infinities have no integer (try_cast gives NULL): written as they are
        artifact = (f"CASE WHEN {_float_artifact(value, parquet_type)} THEN {_short_decimal(value, parquet_type)} END, "
                    if parquet_type in FLOAT_DIGITS else "")
        return (f"coalesce(CASE WHEN {value} = trunc({value}) THEN CAST(try_cast({value} AS HUGEINT) AS VARCHAR) END, "
                f"{artifact}CAST({value} AS VARCHAR))")
    return f"nullif(CAST({value} AS VARCHAR), '')"


def _short_decimal(value: str, parquet_type: str) -> str:
    """The decimal of FLOAT_DIGITS significant digits nearest to a binary float, without trailing zeros."""
    return f"printf('%.{FLOAT_DIGITS[parquet_type]}g', {value})"


def _float_artifact(value: str, parquet_type: str) -> str:
    """A binary float that is not whole, is not written as that decimal already, but lies within FLOAT_ARTIFACT_ULPS
    units in the last place of a decimal of FLOAT_DIGITS significant digits (one the type always keeps exactly): the
    float a computation made of that decimal (28.000000000000004 of 28, (0.1 + 0.2) * 10 of 3). In positional
    notation only."""
    short, kind = _short_decimal(value, parquet_type), parquet_type
    ulp = f"(nextafter(abs({value}), CAST('inf' AS {kind})) - abs({value}))"
    return (f"({value} <> trunc({value}) AND isfinite({value}) AND NOT contains({short}, 'e') "
            f"AND CAST({value} AS VARCHAR) <> {short} AND abs({value} - CAST({short} AS {kind})) "
            f"<= {FLOAT_ARTIFACT_ULPS} * {ulp})")


def _stage_select(contract: TableContract, shape: FileShape, source_alias: str,
                  types: dict[str, str] | None = None, zones: dict[str, str] | None = None) -> str:
    """Every contract column as text; `types`, `zones`: a Parquet file's column types and its timestamps' zones
    (a CSV's values are text already)."""
    cols = []
    for col in contract.names:
        delivered = shape.column_map.get(col)
        value = f"{source_alias}.{q(delivered)}" if delivered else "NULL"
        if delivered and types is not None:
            value = _parquet_text(value, types[delivered], (zones or {}).get(delivered, "UTC"))
        cols.append(f"CAST({value} AS VARCHAR) AS {q(col)}")
    return ", ".join(cols)


def create_stage(con: duckdb.DuckDBPyConnection, contract: TableContract) -> None:
    cols = ", ".join(f"{q(n)} VARCHAR" for n in contract.names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE_TABLE} ({cols}, _source_file VARCHAR, _file_hash VARCHAR, "
                "_line_number BIGINT)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REJECT_QUARANTINE} (_source_file VARCHAR, _file_hash VARCHAR, "
                "_line_number BIGINT, raw_record VARCHAR, rule VARCHAR, reason VARCHAR)")


def _shift_past_rejects(con, rel: str) -> None:
    """Record k of a CSV sits on line k + 1 (header) plus the rejected records before it.

    Accepted records before reject j (on line r_j) number r_j - 1 - j, so record k follows reject j exactly
    when k > r_j - 1 - j. Only files with rejects pay for this update.
    """
    con.execute(
        f"""
        UPDATE {STAGE_TABLE} AS _s SET _line_number = _s._line_number + (
            SELECT count(*) FROM (
                SELECT _line_number - 1 - row_number() OVER (ORDER BY _line_number) AS accepted_before
                FROM {REJECT_QUARANTINE} WHERE _source_file = $rel
            ) AS _r WHERE _s._line_number - 1 > _r.accepted_before
        )
        WHERE _s._source_file = $rel
        """,
        {"rel": rel},
    )


def stage_csv(con, contract: TableContract, path: Path, rel: str, file_hash: str, header: CsvHeader) -> FileShape:
    """Append one delimited file's rows to the stage; records DuckDB's reader rejects go to the reject quarantine.
    Lines count from the header, line 1 (blank lines before it are no lines of the file's table). A file read as
    UTF-8 whose reading met bytes that are not UTF-8 is read again as Windows-1252 when it is that
    (detect_encoding); the shape's notes say in which encoding a file was read, when not UTF-8."""
    shape = map_columns(path, contract, header.names)
    if header.encoding == UTF8:
        _read_delimited(con, contract, shape, path, path, rel, file_hash, header)
        invalid = con.execute(f"SELECT count(*) FROM {_REJECTS} WHERE error_type = 'INVALID ENCODING'").fetchone()[0]
        if invalid and detect_encoding(path, header.compression) == WINDOWS_1252:
            con.execute(f"DELETE FROM {STAGE_TABLE} WHERE _source_file = ?", [rel])
            header = replace(header, encoding=WINDOWS_1252)
    if header.encoding != UTF8:
        with utf8_copy(path, header) as copy:
            _read_delimited(con, contract, shape, path, copy, rel, file_hash, replace(header, compression="none"))
        shape.notes.append(ENCODING_NOTES[header.encoding])
    reject_rules = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in REJECT_RULES.items())
    rejected = con.execute(
        f"""
        INSERT INTO {REJECT_QUARANTINE}
        SELECT $rel, $hash, line - {header.blank_lines}, any_value(csv_line),
               CASE any_value(error_type)::VARCHAR {reject_rules} ELSE '{MALFORMED_RULE}' END,
               'CSV reader: ' || any_value(error_message)
        FROM {_REJECTS} GROUP BY line
        """,
        {"rel": rel, "hash": file_hash},
    ).fetchone()[0]
    if rejected:
        _shift_past_rejects(con, rel)
    return shape


def _read_delimited(con, contract: TableContract, shape: FileShape, path: Path, source: Path, rel: str,
                    file_hash: str, header: CsvHeader) -> None:
    """DuckDB's reader over `source` (the file, or its UTF-8 copy) into the stage, its rejects in _REJECTS."""
    columns = "{" + ", ".join(f"'{h.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for h in header.names) + "}"
    nulls = "[" + ", ".join(f"'{n}'" for n in CSV_NULLS) + "]"
    con.execute(f"DROP TABLE IF EXISTS {_REJECTS}")
    con.execute(f"DROP TABLE IF EXISTS {_REJECT_SCANS}")
    try:
        con.execute(
            f"""
            INSERT INTO {STAGE_TABLE}
            SELECT {_stage_select(contract, shape, '_src')}, $rel, $hash, _src.ordinality + 1
            FROM read_csv(
                $path, header = true, auto_detect = false, columns = {columns}, delim = $delim, quote = '"',
                escape = '"', encoding = 'utf-8', compression = '{header.compression}',
                skip = {header.blank_lines}, nullstr = {nulls}, store_rejects = true,
                rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}', strict_mode = true
            ) WITH ORDINALITY AS _src
            """,
            {"path": str(source), "rel": rel, "hash": file_hash, "delim": header.delimiter},
        )
    except duckdb.IOException as exc:  # e.g. a compressed file cut short
        raise _fail(path, f"cannot be read or decompressed ({exc})") from exc
    except duckdb.InvalidInputException as exc:  # e.g. LF and CRLF line ends mixed in one file
        raise _fail(path, f"the CSV reader cannot parse it: {str(exc).splitlines()[0]}") from exc


def _parquet_zones(con, path: Path, schema: pa.Schema) -> dict[str, str]:
    """The zone each zoned timestamp column was written in (kept in the file's Arrow schema by pandas and pyarrow;
    other writers keep UTC instants only). A zone DuckDB does not know fails the load: its dates would be guesses."""
    zones = {f.name: f.type.tz for f in schema if pa.types.is_timestamp(f.type) and f.type.tz}
    named = {z for z in zones.values() if not _zone_shift(z)}
    known = {row[0] for row in con.execute("SELECT name FROM pg_timezone_names()").fetchall()} if named else set()
    for column, zone in zones.items():
        if zone in named - known:
            raise _fail(path, f"column {column}: time zone {zone!r} is not a zone name or offset DuckDB knows")
    return zones


def stage_parquet(con, contract: TableContract, path: Path, rel: str, file_hash: str) -> FileShape:
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise _fail(path, f"cannot be read as Parquet ({str(exc).splitlines()[0]})") from exc
    # DuckDB renames a repeated name (PERSON_ID beside person_id becomes PERSON_ID_1): the file's own names say
    # whether a contract column is named twice, as in a CSV header
    _unique_names(path, contract, schema.names)
    zones = _parquet_zones(con, path, schema)
    hive = hive_partitioned(rel)
    try:
        types = parquet_types(con, path, hive)
        shape = map_columns(path, contract, list(types))
        con.execute(
            f"""
            INSERT INTO {STAGE_TABLE}
            SELECT {_stage_select(contract, shape, '_src', types, zones)}, $rel, $hash, _src.file_row_number + 1
            FROM {_read_parquet(hive, row_numbers=True)} AS _src
            """,
            {"rel": rel, "hash": file_hash, "path": str(path)},
        )
        floats = [c for c in shape.column_map.values() if types[c] in FLOAT_DIGITS]
        if floats:
            artifacts = " + ".join(f"count(*) FILTER (WHERE {_float_artifact(q(c), types[c])})" for c in floats)
            counted = con.execute(f"SELECT {artifacts} FROM read_parquet(?)", [str(path)]).fetchone()[0]
            if counted:
                shape.notes.append(f"{counted} value{'s' if counted > 1 else ''} of FLOAT/DOUBLE columns read as the "
                                   f"decimal of {FLOAT_DIGITS['DOUBLE']} (FLOAT: {FLOAT_DIGITS['FLOAT']}) significant "
                                   "digits it is a float artifact of (28.000000000000004 as 28)")
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:  # e.g. an upload cut short
        raise _fail(path, f"cannot be read as Parquet ({str(exc).splitlines()[0]})") from exc
    return shape
