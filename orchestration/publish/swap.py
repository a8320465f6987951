"""Atomic swap-in of a publication built aside.

The database is a whole new file moved over the live one with os.replace: a reader that opened the old file keeps
reading it (POSIX keeps the inode alive), a reader opening afterwards gets the new one, nobody is locked out
because the writer never opens the live file. A directory cannot be replaced atomically, so the live path is a
symbolic link to a versioned directory and the link itself is replaced. Readers that read several files should
resolve the link once (os.path.realpath) to stay on one version.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

VERSIONS_TO_KEEP = 2  # the live version and the one before it, for readers still inside it


def swap_file(built: Path, live: Path) -> None:
    wal = built.with_name(built.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{built} still has a write-ahead log: close the database before swapping it in")
    os.replace(built, live)


def swap_dir(version_dir: Path, live: Path) -> None:
    if live.exists() and not live.is_symlink():
        # First publication over a plain directory left by an older layout: keep it as a version.
        os.rename(live, version_dir.parent / f"legacy-{uuid.uuid4().hex[:8]}")
    link = live.with_name(f".{live.name}.{uuid.uuid4().hex}")
    os.symlink(os.path.relpath(version_dir, live.parent), link)
    os.replace(link, live)


def prune_versions(versions_root: Path, live: Path) -> None:
    current = live.resolve()
    versions = sorted((p for p in versions_root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in versions[:-VERSIONS_TO_KEEP]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def discard(*paths: Path) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            for p in (path, path.with_name(path.name + ".wal")):
                p.unlink(missing_ok=True)
