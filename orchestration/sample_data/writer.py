"""The landing layout: DIR/<table>/<YYYY-MM>.<csv|csv.zst|parquet>, one file per delivery month, appended chunk
by chunk so that memory stays bounded by one chunk. `csv.zst` is the CSV compressed as it is written (the
ingestion and DuckDB read it as is): the 10M-person benchmark's 36 GB of CSV would not fit this machine's disk."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CSV_OPTIONS = dict(quoting_style="needed")


def month_name(month: int) -> str:
    return str(np.datetime64(int(month), "M"))


def csv_bytes(table: pa.Table, header: bool) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header, **CSV_OPTIONS))
    return buf.getvalue()


class MonthlyWriter:
    def __init__(self, out: Path, table: str, fmt: str, schema: pa.Schema):
        self.dir = out / table
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fmt, self.schema = fmt, schema
        self.files: dict[int, object] = {}
        self.rows = 0

    def _file(self, month: int):
        if month not in self.files:
            path = self.dir / f"{month_name(month)}.{self.fmt}"
            if self.fmt in ("csv", "csv.zst"):
                f = pa.output_stream(str(path), compression="detect")
                f.write(csv_bytes(self.schema.empty_table(), header=True))
            else:
                f = pq.ParquetWriter(path, self.schema)
            self.files[month] = f
        return self.files[month]

    def write(self, table: pa.Table, months: np.ndarray) -> None:
        order = np.argsort(months, kind="stable")
        sorted_months = months[order]
        table = table.take(pa.array(order))
        bounds = np.flatnonzero(np.r_[True, sorted_months[1:] != sorted_months[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            part = table.slice(a, b - a)
            f = self._file(int(sorted_months[a]))
            if self.fmt == "parquet":
                f.write_table(part)
            else:
                f.write(csv_bytes(part, header=False))
        self.rows += table.num_rows

    def write_raw(self, data: bytes, month: int, rows: int) -> None:
        """Pre-rendered CSV lines (defects that a CSV writer cannot produce)."""
        self._file(int(month)).write(data)
        self.rows += rows

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def write_providers(out: Path, table: pa.Table, fmt: str) -> None:
    d = out / "provider"
    d.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, d / "providers.parquet")
    else:
        with pa.output_stream(str(d / f"providers.{fmt}"), compression="detect") as f:
            f.write(csv_bytes(table, header=True))
