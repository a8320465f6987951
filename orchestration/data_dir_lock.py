"""One pipeline at a time per DATA_DIR: an advisory file lock (fcntl.flock) on DATA_DIR/.pipeline.lock.

DuckDB lets only one process open warehouse.duckdb while any process writes it (read-only openers included),
and the publication switch assumes one publisher. `spine-pipeline run|demo` holds the lock for its whole run;
inside Dagster runs (sensor, schedule, UI) every step that opens the warehouse holds it while it does, so a
headless run and a Dagster run never meet inside the warehouse either. A second holder waits up to
LOCK_WAIT_SECONDS (default 0), then gets DataDirBusy naming the holder.

The kernel drops the lock when its process dies (kill -9 included): a lock file left behind never blocks.
Re-entrant within a thread: the headless run holds the lock and runs its jobs in-process, whose steps take it
again.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterator

LOCK_FILE = ".pipeline.lock"
_POLL_SECONDS = 0.2


class DataDirBusy(Exception):
    """Another process holds the DATA_DIR lock."""


class _Holding:
    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.handle: IO[str] | None = None
        self.depth = 0


_registry: dict[Path, _Holding] = {}
_registry_guard = threading.Lock()


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_FILE


def _holding(path: Path) -> _Holding:
    with _registry_guard:
        return _registry.setdefault(path, _Holding())


def _describe_holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "another process"


def _acquire_file(path: Path, wait_seconds: float, holder: str) -> IO[str]:
    handle = open(path, "a+")
    deadline = time.monotonic() + max(wait_seconds, 0)
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                waited = f"after waiting {wait_seconds:g} s" if wait_seconds > 0 else "(LOCK_WAIT_SECONDS=0)"
                raise DataDirBusy(
                    f"DATA_DIR {path.parent} is in use by {_describe_holder(path)} {waited}: "
                    "one pipeline run at a time; wait for it to finish or set LOCK_WAIT_SECONDS to wait."
                ) from None
            time.sleep(_POLL_SECONDS)
    since = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} ({holder}, since {since})\n")
    handle.flush()
    return handle


@contextmanager
def data_dir_lock(data_dir: Path, wait_seconds: float = 0, holder: str = "a pipeline run") -> Iterator[None]:
    """Hold DATA_DIR's lock for the block; raise DataDirBusy if another process keeps it past `wait_seconds`."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(data_dir)
    holding = _holding(path)
    got = holding.thread_lock.acquire(timeout=wait_seconds) if wait_seconds > 0 else holding.thread_lock.acquire(False)
    if not got:
        raise DataDirBusy(f"DATA_DIR {data_dir} is in use by another thread of this process")
    try:
        if holding.depth == 0:
            holding.handle = _acquire_file(path, wait_seconds, holder)
        holding.depth += 1
        try:
            yield
        finally:
            holding.depth -= 1
            if holding.depth == 0 and holding.handle is not None:
                # Clear the holder line first: the file never names a process that no longer holds the lock.
                holding.handle.seek(0)
                holding.handle.truncate()
                fcntl.flock(holding.handle, fcntl.LOCK_UN)
                holding.handle.close()
                holding.handle = None
    finally:
        holding.thread_lock.release()
