"""The bad-input matrix: every kind of damaged delivery we know of, what happens to it, and the reconciliation
rows read = rows loaded + rows quarantined. Run it to print the table (tests/test_bad_input_matrix.py asserts it):

    .venv/bin/python tests/bad_input_matrix.py [WORK_DIR]

Row kinds: one small file each (a good line plus the damage), loaded as its own delivery. File kinds: a landing
folder scanned as the pipeline scans it, each file read or reported. The last kind runs the required-data check.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.checks.required_data import required_rows_problems
from orchestration.ingest.discovery import delivery_key, scan_landing
from orchestration.ingest.loader import load_delivery
from orchestration.ingest.reader import FileContractError

CLAIM_HEADER = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,diagnosis_code_1,paid_amount"
GOOD = "C0,1,P0,2024-03-01,63030,M51.16,10.00"
OBS_HEADER = "person_id,observation_date,source_code,result"
OBS_GOOD = "P0,2024-03-01,72514-3,7"


@dataclass(frozen=True)
class Kind:
    name: str
    expected: str  # the rule of the damaged rows, "loaded", or the file's fate
    table: str = "medical_claim"
    rows: tuple[bytes, ...] = ()  # raw lines after the header (row kinds)
    newline: bytes = b"\n"
    header: bytes | None = None  # the header line, when not the table's plain one


def _b(text: str) -> bytes:
    return text.encode()


ROW_KINDS = [
    Kind("impossible date 2025-02-30", "bad_date", rows=(_b("C1,1,P1,2025-02-30,63030,M51.16,1"),)),
    Kind("US date 03/01/2024", "bad_date", rows=(_b("C1,1,P1,03/01/2024,63030,M51.16,1"),)),
    Kind("empty required person_id", "missing_key", rows=(_b("C1,1,,2024-03-01,63030,M51.16,1"),)),
    Kind("HCPCS of 4 characters", "loaded, warns unknown_code_format", rows=(_b("C1,1,P1,2024-03-01,6303,M51.16,1"),)),
    Kind("ICD-10 of the wrong shape", "loaded, warns unknown_code_format", rows=(_b("C1,1,P1,2024-03-01,63030,XX999,1"),)),
    Kind("amount n/a", "loaded, warns bad_number", rows=(_b("C1,1,P1,2024-03-01,63030,M51.16,n/a"),)),
    Kind("line number 1.5", "bad_number", rows=(_b("C1,1.5,P1,2024-03-01,63030,M51.16,1"),)),
    Kind("line number 1.4 (would replace line 1)", "bad_number", rows=(_b("C0,1.4,P0,2024-03-01,G2136,M51.16,0"),)),
    Kind("line number 1e3", "bad_number", rows=(_b("C1,1e3,P1,2024-03-01,63030,M51.16,1"),)),
    Kind("line number beyond INTEGER", "bad_number", rows=(_b("C1,2147483648,P1,2024-03-01,63030,M51.16,1"),)),
    Kind("line number 2.0", "loaded", rows=(_b("C1,2.0,P1,2024-03-01,63030,M51.16,1"),)),
    Kind("exact duplicate line", "duplicate_line", rows=(_b(GOOD),)),
    Kind("two versions of one claim line", "conflicting_versions", rows=(_b("C0,1,P0,2024-03-01,63030,M51.16,99.00"),)),
    Kind("NUL byte in a value", "control_character", rows=(b"C1,1,P\x001,2024-03-01,63030,M51.16,1",)),
    Kind("escape byte in a value", "control_character", rows=(b"C1,1,P1\x1b,2024-03-01,63030,M51.16,1",)),
    Kind("tab inside a quoted value", "loaded", rows=(b'C1,1,"P\t1",2024-03-01,63030,M51.16,1',)),
    Kind("line break inside a quoted value", "loaded", rows=(b'C1,1,"P\n1",2024-03-01,63030,M51.16,1',)),
    Kind("CRLF line ends", "loaded", rows=(b"C1,1,P1,2024-03-01,63030,M51.16,1",), newline=b"\r\n"),
    Kind("LF and CRLF line ends mixed", "run fails naming the file", rows=(b"C1,1,P1,2024-03-01,63030,M51.16,1\r",)),
    Kind("too few fields", "too_few_columns", rows=(_b("C1,1,P1"),)),
    Kind("too many fields", "too_many_columns", rows=(_b("C1,1,P1,2024-03-01,63030,M51.16,1,EXTRA"),)),
    Kind("quote never closed", "malformed_quoting", rows=(_b('C1,1,"P1,2024-03-01,63030,M51.16,1'),)),
    Kind("Latin-1 byte in a UTF-8 file (one holding UTF-8 characters)", "invalid_utf8",
         rows=(b"C1,1,P\xe91,2024-03-01,63030,M51.16,1", _b("C2,1,P\u00fc2,2024-03-01,63030,M51.16,1"))),
    Kind("Windows-1252 file (no UTF-8 character, every byte Windows-1252)", "loaded",
         rows=("C1,1,Pe\u00f1a \u201cG\u201d \u2013 1,2024-03-01,63030,M51.16,1".encode("cp1252"),)),
    Kind("neither UTF-8 nor Windows-1252 (byte 0x81)", "invalid_utf8", rows=(b"C1,1,P\x81\xe91,2024-03-01,63030,M51.16,1",)),
    Kind("score 11 on a 0-10 scale", "score_out_of_range", "observation", (_b("P1,2024-03-02,72514-3,11"),)),
    Kind("score 'seven'", "non_numeric_score", "observation", (_b("P1,2024-03-02,72514-3,seven"),)),
    Kind("score 12 on a 0-10 scale, code without its hyphen", "score_out_of_range", "observation",
         (_b("P1,2024-03-02,725143,12"),)),
    Kind("score 3.0004 (would round to 3.000)", "score_precision", "observation", (_b("P1,2024-03-02,72514-3,3.0004"),)),
    Kind("ISO timestamp as the date 2024-03-15T00:00:00", "loaded", rows=(_b("C1,1,P1,2024-03-15T00:00:00,63030,M51.16,1"),)),
    Kind("timestamp with an hours-only offset (PostgreSQL) 2024-03-15 00:00:00-05", "loaded",
         rows=(_b("C1,1,P1,2024-03-15 00:00:00-05,63030,M51.16,1"),)),
    Kind("timestamp as BigQuery writes it 2024-03-15 00:00:00 UTC", "loaded",
         rows=(_b("C1,1,P1,2024-03-15 00:00:00 UTC,63030,M51.16,1"),)),
    Kind("amount written NULL (database export)", "loaded", rows=(_b("C1,1,P1,2024-03-02,63030,M51.16,NULL"),)),
    Kind("person_id written \\N (MySQL export)", "missing_key", rows=(_b("C1,1,\\N,2024-03-02,63030,M51.16,1"),)),
    Kind("byte-order mark before the header", "loaded", rows=(_b("C1,1,P1,2024-03-02,63030,M51.16,1"),),
         header=b"\xef\xbb\xbf" + _b(CLAIM_HEADER)),
    Kind("trailing comma on every line (an unnamed column)", "loaded", rows=(_b("C1,1,P1,2024-03-02,63030,M51.16,1,"),),
         header=_b(CLAIM_HEADER + ",")),
    Kind("an unknown extra column", "loaded", rows=(_b("C1,1,P1,2024-03-02,63030,M51.16,1,x"),),
         header=_b(CLAIM_HEADER + ",note")),
    Kind("a contract column named twice", "run fails naming the file", rows=(_b("C1,1,P1,2024-03-02,63030,M51.16,1,P9"),),
         header=_b(CLAIM_HEADER + ",Person_ID")),
    Kind("CR-only line ends (classic Mac OS)", "run fails naming the file", rows=(_b("C1,1,P1,2024-03-02,63030,M51.16,1"),),
         newline=b"\r"),
]


@dataclass(frozen=True)
class Outcome:
    kind: str
    expected: str
    outcome: str
    read: int | None = None
    loaded: int | None = None
    quarantined: int | None = None

    @property
    def reconciles(self) -> bool:
        return self.read is None or self.read == self.loaded + self.quarantined

    @property
    def as_expected(self) -> bool:
        return (self.outcome == self.expected or self.outcome.startswith(self.expected + ": ")) and self.reconciles


def _row_outcome(con, kind: Kind, work: Path, i: int) -> Outcome:
    header, good = (CLAIM_HEADER, GOOD) if kind.table == "medical_claim" else (OBS_HEADER, OBS_GOOD)
    path = work / "rows" / kind.table / f"{2000 + i}-01.csv"  # one delivery per kind
    path.parent.mkdir(parents=True, exist_ok=True)
    head = kind.header or _b(header)
    good_line = _b(good) + b"," * (head.count(b",") - header.count(","))  # the good line fills any extra column
    path.write_bytes(kind.newline.join([head, good_line, *kind.rows]) + kind.newline)
    try:
        report = load_delivery(con, kind.table, delivery_key(path), [path], work / "rows")
    except FileContractError as exc:
        return Outcome(kind.name, kind.expected, "run fails naming the file" if path.name in str(exc) else str(exc))
    rules, warned = sorted(report.by_rule), sorted(report.warned_by_rule)
    outcome = ", ".join(rules) if rules else ("loaded, warns " + ", ".join(warned) if warned else "loaded")
    return Outcome(kind.name, kind.expected, outcome, report.read, report.loaded, report.quarantined)


def _write_file_kinds(landing: Path) -> dict[str, tuple[str, str]]:
    """{relative path: (kind, expected)}; the expected fate of each file."""
    claims = "\n".join([CLAIM_HEADER, GOOD, "C1,1,P1,2024-03-02,63030,M51.16,1"]) + "\n"
    folder = landing / "medical_claim"
    folder.mkdir(parents=True)
    (folder / "2024-01.csv").write_text(claims)
    (folder / "2024-02.csv.gz").write_bytes(gzip.compress(claims.replace("C1,", "C2,").encode()))
    with pa.output_stream(str(folder / "2024-03.csv.zst"), compression="zstd") as out:
        out.write(claims.replace("C1,", "C3,").encode())
    pq.write_table(pa.table({"claim_id": ["C4"], "claim_line_number": [1], "person_id": ["P4"],
                             "claim_start_date": ["2024-04-01"], "hcpcs_code": ["63030"],
                             "diagnosis_code_1": ["M51.16"]}), folder / "2024-04.parquet")
    (folder / "claims.csv").write_text(claims.replace("C1,", "C5,"))
    (folder / "2024-05.tsv").write_text(claims.replace(",", "\t").replace("C1\t", "C8\t"))
    (folder / "2024-06.txt").write_text(claims.replace(",", "|").replace("C1|", "C9|"))
    (folder / "README.txt").write_text("Claims extract from the vendor, March 2024\n")
    (folder / "2024-07.tsv").write_text(claims.replace("C1,", "C10,"))
    (folder / "2025-13.csv").write_text(claims)
    (folder / "2024-02-30.csv").write_text(claims)
    (folder / ".2024-07.csv.part").write_text(claims)
    (folder / "archive").mkdir()
    (folder / "archive" / "2023-01.csv").write_text(claims)
    (folder / "2024-08.csv").write_bytes(b"")
    (folder / "2024-09.csv").write_text(CLAIM_HEADER + "\n")
    (folder / "2024-10.csv").write_text(claims)  # the same bytes as 2024-01.csv
    (folder / "2024-11.csv").write_text("claim_id,claim_line_number\nC9,1\n")
    (folder / "2024-12.csv").write_text(claims.replace(",", ";"))
    (folder / "2023-12.csv").write_bytes(CLAIM_HEADER.replace("person_id", "p\x81rson_id").encode("latin-1") + b"\n")
    packed = gzip.compress(("\n".join([CLAIM_HEADER] + [f"C{i},1,P{i},2024-03-01,63030,M51.16,1" for i in range(200_000)])
                            + "\n").encode())
    (folder / "2023-11.csv.gz").write_bytes(packed[: len(packed) * 6 // 10])
    (folder / "2023-10.csv.gz").write_bytes(gzip.compress(b""))
    (folder / "2023-09.parquet").write_bytes(b"PAR1 an upload cut short")
    (folder / "2023-08.CSV.GZ").write_bytes(gzip.compress(claims.replace("C1,", "C6,").encode()))
    (folder / "2023-07.csv").write_text("\n" + claims.replace("C1,", "C7,"))
    (landing / "ELIGIBILITY").mkdir()
    (landing / "ELIGIBILITY" / "2024-01.csv").write_text("person_id,birth_date\nP1,1950-01-01\n")
    (landing / "medical_claims").mkdir()
    (landing / "medical_claims" / "2024-01.csv").write_text(claims)
    (landing / "eligibility.xlsx").write_bytes(b"PK\x03\x04")
    return {
        "medical_claim/2024-01.csv": ("plain CSV", "loaded"),
        "medical_claim/2024-02.csv.gz": ("gzip CSV", "loaded"),
        "medical_claim/2024-03.csv.zst": ("Zstandard CSV", "loaded"),
        "medical_claim/2024-04.parquet": ("Parquet, typed columns", "loaded"),
        "medical_claim/claims.csv": ("undated name", "loaded as delivery 0000-claims"),
        "medical_claim/2024-05.tsv": ("tab-separated .tsv", "loaded"),
        "medical_claim/2024-06.txt": ("pipe-separated .txt", "loaded"),
        "medical_claim/README.txt": (".txt naming no column (a read-me)", "not read"),
        "medical_claim/2024-07.tsv": (".tsv holding commas", "run fails naming the file"),
        "medical_claim/2025-13.csv": ("month 13 in the name", "not read"),
        "medical_claim/2024-02-30.csv": ("impossible date in the name", "not read"),
        "medical_claim/.2024-07.csv.part": ("hidden partial upload", "not read"),
        "medical_claim/archive/2023-01.csv": ("file in a subfolder", "not read"),
        "medical_claims/2024-01.csv": ("misspelled table folder", "not read"),
        "eligibility.xlsx": ("spreadsheet", "not read"),
        "medical_claim/2024-08.csv": ("0-byte file", "skipped_empty_file"),
        "medical_claim/2024-09.csv": ("header only", "loaded"),
        "medical_claim/2024-10.csv": ("same bytes as an earlier delivery", "skipped_duplicate_file"),
        "medical_claim/2024-11.csv": ("required column missing", "run fails naming the file"),
        "medical_claim/2024-12.csv": ("semicolon-delimited", "run fails naming the file"),
        "medical_claim/2023-12.csv": ("header neither UTF-8 nor Windows-1252", "run fails naming the file"),
        "medical_claim/2023-11.csv.gz": ("gzip cut short", "run fails naming the file"),
        "medical_claim/2023-10.csv.gz": ("gzip of nothing (no header)", "skipped_empty_file"),
        "medical_claim/2023-09.parquet": ("Parquet cut short", "run fails naming the file"),
        "medical_claim/2023-08.CSV.GZ": ("gzip CSV, extension in upper case", "loaded"),
        "medical_claim/2023-07.csv": ("a blank line before the header", "loaded"),
        "ELIGIBILITY/2024-01.csv": ("table folder in upper case", "loaded"),
    }


def _file_outcomes(con, work: Path) -> list[Outcome]:
    landing = work / "landing"
    expected = _write_file_kinds(landing)
    scan = scan_landing(landing)
    outcomes = {n.path: Outcome(*expected[n.path], f"not read: {n.reason}") for n in scan.not_read}
    for table, path in sorted(scan.files, key=lambda f: delivery_key(f[1])):
        rel = path.relative_to(landing).as_posix()
        kind, wanted = expected[rel]
        key = delivery_key(path)
        try:
            report = load_delivery(con, table, key, [path], landing)
        except FileContractError as exc:
            ok = rel in str(exc) or path.name in str(exc)
            outcomes[rel] = Outcome(kind, wanted, "run fails naming the file" if ok else f"fails: {exc}")
            continue
        status = report.files[0].status
        fate = (f"loaded as delivery {key}" if key.startswith("0000-") else "loaded") if status == "loaded" else status
        outcomes[rel] = Outcome(kind, wanted, fate, report.read, report.loaded, report.quarantined)
    return [outcomes[p] for p in expected]


def _required_data_outcome(work: Path) -> Outcome:
    with duckdb.connect(str(work / "empty.duckdb")) as con:
        from orchestration.ingest.ledger import create_ledger
        from orchestration.raw_schema import create_raw_tables

        create_raw_tables(con)
        create_ledger(con)
        problems, _, _, _ = required_rows_problems(con, "medical_claim", 0.5)
    return Outcome("no claims at all (empty medical_claim/)", "blocking check fails: nothing published",
                   "blocking check fails: nothing published" if problems else "passes")


def run_matrix(work: Path, connect=duckdb.connect, required_data: bool = True) -> list[Outcome]:
    """`connect()`: a new, empty warehouse connection (DuckDB in memory; tests/test_spark_ingest.py passes a Spark
    warehouse, whose required-data kind it checks on its own)."""
    rows = [_row_outcome(connect(), kind, work, i) for i, kind in enumerate(ROW_KINDS, start=1)]
    return rows + _file_outcomes(connect(), work) + ([_required_data_outcome(work)] if required_data else [])


def render(outcomes: list[Outcome]) -> str:
    lines = ["| kind | expected | outcome | read | loaded | quarantined | read = loaded + quarantined |",
             "|---|---|---|---|---|---|---|"]
    for o in outcomes:
        counts = [("" if v is None else str(v)) for v in (o.read, o.loaded, o.quarantined)]
        check = "-" if o.read is None else ("yes" if o.reconciles else "NO")
        flag = "" if o.as_expected else " **UNEXPECTED**"
        lines.append(f"| {o.kind} | {o.expected} | {o.outcome}{flag} | {' | '.join(counts)} | {check} |")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp)
        result = run_matrix(work)
        print(render(result))
        print(f"\n{len(result)} kinds, {sum(o.as_expected for o in result)} as expected")
        sys.exit(0 if all(o.as_expected for o in result) else 1)
