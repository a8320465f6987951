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

The event log also built a new SQLAlchemy engine and opened a new SQLite connection for every event (~2 ms of
Python each, ~5 s of a refit's ~1,550 events): its storage now keeps one engine, with one connection, per
database file (`_pooled_connect`), used under the storage's own lock as before; a file whose storage was wiped
(its shards deleted) gets a new engine.

Round 3: with every asset event the storage asked SQLite's schema whether a table (`has_table`, on a new engine
and connection each time) and a column of the asset-key index exist (~0.5 s of a demo's ~1,550 events). Both are
remembered once present: Dagster adds tables and columns by migration and never removes them from a live storage
(a wipe recreates them), so a remembered "present" stays true; an absent one is asked again every time.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

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
        for engine in _engines:
            engine.dispose()
        _engines.clear()
        for keeper in _keepers.values():
            keeper.close()
        _keepers.clear()


# Engines _pooled_connect keeps, most recently used last, per storage; the oldest beyond KEPT_ENGINES is disposed
# (a UI process reads the logs of many runs: one open file per run it ever showed would add up).
KEPT_ENGINES = 8
_engines: list = []  # every engine kept open, disposed when the process ends


@contextmanager
def _pooled_connect(self, shard: str) -> Iterator:
    """SqliteEventLogStorage._connect (dagster 1.13) with one engine and connection per shard instead of a new
    engine (NullPool) per call: the same lock, the same first-use initialization, one transaction per call."""
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    with self._db_lock:
        engines: OrderedDict = self.__dict__.setdefault("_spine_engines", OrderedDict())
        if shard not in self._initialized_dbs:  # first use, or the storage was wiped (files deleted) since
            _dispose(engines.pop(shard, None))
        engine = engines.get(shard)
        if engine is None:
            engine = engines[shard] = create_engine(
                self.conn_string_for_shard(shard), poolclass=StaticPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            with _lock:
                _engines.append(engine)
            while len(engines) > KEPT_ENGINES:
                _dispose(engines.popitem(last=False)[1])
        engines.move_to_end(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        with engine.connect() as conn:
            with conn.begin():
                yield conn


def _dispose(engine) -> None:
    if engine is None:
        return
    engine.dispose()
    with _lock:
        if engine in _engines:
            _engines.remove(engine)


def _remember_present(ask):
    """`ask(self, ..., name) -> bool`, remembered per storage and name once it answered True."""
    def remembered(self, *args):
        present: set = self.__dict__.setdefault("_spine_present", set())
        key = (ask.__name__, args[-1])
        if key in present:
            return True
        found = ask(self, *args)
        if found:
            present.add(key)
        return found

    remembered.__name__ = ask.__name__
    return remembered


def install() -> None:
    """Idempotent; call before the instance stores its first event."""
    global _installed
    if _installed:
        return
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _on_connect)
    SqliteEventLogStorage._connect = _pooled_connect
    SqliteEventLogStorage.has_table = _remember_present(SqliteEventLogStorage.has_table)
    SqlEventLogStorage._has_asset_key_col_on_connection = _remember_present(
        SqlEventLogStorage._has_asset_key_col_on_connection)
    atexit.register(_close_keepers)
    _installed = True
