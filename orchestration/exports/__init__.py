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
