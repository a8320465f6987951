"""Operator exports: files with patient identifiers, written only by explicit commands, never published.

`cases` (spine-pipeline export-cases) and `worklist` (spine-pipeline worklist, the weekly export) share how such a
file is written (`private_csv`) and how a refusal ends (`ExportError`: the same exit codes for both commands).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EXIT_BAD_ARGUMENT, EXIT_NOTHING_TO_EXPORT = 2, 1


class ExportError(Exception):
    """The export cannot be written as asked; the message is one line for the operator. Exit code 2 for a bad
    argument (a published path, a folder, a missing folder, a bad option), 1 when there is nothing to export yet
    or the warehouse is busy (try again later)."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_ARGUMENT):
        super().__init__(message)
        self.exit_code = exit_code


def busy_or_missing(message: str) -> ExportError:
    return ExportError(message, EXIT_NOTHING_TO_EXPORT)


def check_destination(out: Path, settings, holds: str) -> Path:
    """The absolute path to write `out` at, or a refusal: never under the published outputs (`holds` says what the
    file holds, for the message), never the warehouse itself, never a folder, never into a folder that does not
    exist (a mistyped path must not create folders full of identifiers somewhere unexpected)."""
    from orchestration.settings import is_published_path

    target = Path(out).expanduser().absolute()
    if is_published_path(target, settings.data_dir):
        raise ExportError(f"{out} is inside the published outputs under {settings.data_dir}: {holds} and is never "
                          "published; choose a path outside them")
    if target.resolve() == settings.warehouse_path.resolve():
        raise ExportError(f"{out} is the pipeline's warehouse; choose another file")
    if target.is_dir():
        raise ExportError(f"{out} is a folder; give the CSV file to write, such as {target / 'export.csv'}")
    if not target.parent.is_dir():
        raise ExportError(f"folder {target.parent} does not exist; create it first or choose another path")
    return target


@contextmanager
def private_csv(out: Path) -> Iterator[Path]:
    """Yields a path to write in an owner-only folder beside `out`; afterwards the file is made owner-only and
    moved over `out`: the identifiers are never readable by others, and no reader sees half a file."""
    private = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tmp = private / out.name
        yield tmp
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def spark_extract(settings, tables: list[str], error):
    """WAREHOUSE=spark: an in-memory DuckDB copy of `tables` (the export's SQL then runs as on DuckDB); `error`
    (the command's one-line error) when the pipeline has not built them yet or another process holds the warehouse."""
    from orchestration.data_dir_lock import DataDirBusy
    from orchestration.spark_session import get_spark
    from orchestration.spark_warehouse import SparkConnection, duckdb_extract, has_table

    try:
        con = SparkConnection(get_spark(settings))
    except DataDirBusy as exc:
        raise error(f"the warehouse under {settings.data_dir} is in use by a running pipeline; try again when it "
                    f"finishes ({exc})") from None
    missing = [t for t in tables if not has_table(con, *t.split("."))]
    if missing:
        raise error(f"{', '.join(missing)} not in the Spark warehouse under {settings.spark_warehouse_dir}: "
                    "run the pipeline first")
    return duckdb_extract(con, tables)
