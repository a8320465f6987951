"""Operator exports: files with patient identifiers, written only by explicit commands, never published.

`cases` (spine-pipeline export-cases) and `worklist` (spine-pipeline worklist, the weekly export) share how such a
file is written: `private_csv`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
