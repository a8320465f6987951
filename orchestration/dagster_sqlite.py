"""Cheaper writes to the Dagster instance's SQLite storage (DATA_DIR/dagster_home): the run's own event log.

Dagster's SQLite storages open a new connection for every event they store (SQLAlchemy NullPool) on databases in
WAL mode with SQLite's default `synchronous=FULL`: each event paid an fsync at its commit and a checkpoint (another
fsync) when its connection, the last one open on the file, closed. A refit writes ~1,600 events (planned and done
materializations and checks of every dbt model and test, step events): 20-60 ms each on this machine, tens of
seconds of a 10k-person demo (docs/performance.md, "Fixed costs").

Here every SQLite connection SQLAlchemy opens in this process gets `synchronous=NORMAL`, SQLite's recommended
setting for WAL (a commit cannot corrupt the database; after a power loss the last commits may be rolled back),
and each database file keeps one idle connection open for the life of the process, so closing the per-event
connection is no longer the last close and does not checkpoint. The WAL is still checkpointed automatically
(every 1,000 pages) and when the process ends. Other processes (the UI, the daemon) read the files as before.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading

_installed = False
_keepers: dict[str, sqlite3.Connection] = {}
_lock = threading.Lock()


def _database_path(con: sqlite3.Connection) -> str | None:
    rows = con.execute("pragma database_list").fetchall()
    path = next((row[2] for row in rows if row[1] == "main"), "")
    return path or None  # "" for an in-memory database


def _on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.execute("pragma synchronous = normal")
    path = _database_path(dbapi_connection)
    if path is None:
        return
    with _lock:
        keeper = _keepers.get(path)
        if keeper is None:
            keeper = _keepers[path] = sqlite3.connect(path, check_same_thread=False)
        # A read joins the WAL index (again: Dagster switches a new file to WAL after its first connection), so the
        # per-event connection is not the last one on the file when it closes.
        keeper.execute("select count(*) from sqlite_master").fetchall()


def _close_keepers() -> None:
    with _lock:
        for keeper in _keepers.values():
            keeper.close()
        _keepers.clear()


def install() -> None:
    """Idempotent; call before the instance stores its first event."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _on_connect)
    atexit.register(_close_keepers)
    _installed = True
