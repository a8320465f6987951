"""The publication layout under DATA_DIR and its one atomic switch.

    publications/<version>/               one whole publication, built in place and never changed after
        published.duckdb                  the tables (+ _manifest)
        published/                        <table>.parquet, manifest.json, site/
        qpp_submissions/                  qpp_<TIN>_<year>.json
        complete.json                     written last: the version is complete (names the version it replaces)
    current -> publications/<version>     THE pointer: the switch is one os.replace of this link
    published.duckdb -> current/published.duckdb    fixed links, made once and never swapped, so that every
    published -> current/published                  path analysts use resolves through the one pointer
    qpp_submissions -> current/qpp_submissions

`current` only ever names a version whose complete.json exists, so a crash at any point leaves readers on one
whole publication: database, parquet, pages and QPP files of the same version. A reader that reads several
files resolves `current` once (current_version) and reads everything under that directory.

Clean-up keeps what a pointer names: the current version and the one its complete.json names as previous (a
reader that resolved `current` before the switch may still be inside it). Everything else under publications/
goes: older versions and a crash's leftovers (a version without complete.json, a complete one never switched
in, a half-made link), together with the older layout's build files and version folders. Ordering never
comes into it, so neither clocks nor modification times can make it keep the wrong version.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

PUBLICATIONS = "publications"
CURRENT = "current"
MARKER = "complete.json"
DATABASE, DIRECTORY, QPP = "published.duckdb", "published", "qpp_submissions"
FIXED_LINKS = (DATABASE, DIRECTORY, QPP)
# The layout before the single pointer: a live file and two links swapped one after the other.
LEGACY_VERSION_ROOTS = ("published_versions", "qpp_submissions_versions")
LEGACY_BUILD_GLOB = ".published-*.duckdb*"


@dataclass(frozen=True)
class Version:
    root: Path

    @property
    def id(self) -> str:
        return self.root.name

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    @property
    def directory(self) -> Path:
        return self.root / DIRECTORY

    @property
    def qpp(self) -> Path:
        return self.root / QPP

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    def is_complete(self) -> bool:
        return self.marker.is_file()

    def previous(self) -> str | None:
        return json.loads(self.marker.read_text()).get("previous") if self.is_complete() else None


def new_version(data_dir: Path) -> Version:
    version_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
    root = data_dir / PUBLICATIONS / version_id
    root.mkdir(parents=True)
    return Version(root)


def current_version(data_dir: Path) -> Version | None:
    """The current publication, resolved once: read every file of one publication under the returned root."""
    link = data_dir / CURRENT
    if not link.is_symlink():
        return None
    root = Path(os.path.realpath(link))
    return Version(root) if root.is_dir() else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mark_complete(version: Version, previous: Version | None, contents: dict[str, object]) -> None:
    """The last write of a build: from here on the version may become current. `contents` says what a reader
    should find in it (table row counts, number of QPP files and pages)."""
    record = {"version": version.id, "previous": previous.id if previous else None, **contents,
              "completed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    staged = version.root / f".{MARKER}.part"
    with open(staged, "w") as handle:
        handle.write(json.dumps(record, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, version.marker)
    _fsync_dir(version.root)


def _point(link: Path, target: str) -> None:
    """Make `link` point at `target` in one step: a new link beside it, renamed over it."""
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    os.symlink(target, staged)
    os.replace(staged, link)


def switch_current(data_dir: Path, version: Version) -> None:
    """The switch: one rename of the `current` link. Before it readers see the old version, after it the new."""
    if not version.is_complete():
        raise RuntimeError(f"publication {version.id} has no {MARKER}: it cannot become current")
    _point(data_dir / CURRENT, os.path.relpath(version.root, data_dir))
    _fsync_dir(data_dir)


def ensure_fixed_links(data_dir: Path) -> None:
    """published.duckdb, published/ and qpp_submissions/ as links through `current` (a no-op once made)."""
    for name in FIXED_LINKS:
        path, target = data_dir / name, f"{CURRENT}/{name}"
        if path.is_symlink() and os.readlink(path) == target:
            continue
        if path.is_dir() and not path.is_symlink():
            # A plain folder of the oldest layout: set aside for clean-up, its content is in the adopted version.
            os.rename(path, data_dir / PUBLICATIONS / f".legacy-{name}-{uuid.uuid4().hex[:8]}")
        _point(path, target)


def _copy_tree_as_links(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination, copy_function=os.link)
    else:
        destination.mkdir()


def migrate_legacy_layout(data_dir: Path) -> None:
    """Adopt a publication of the older layout (a live published.duckdb file, published -> published_versions/..,
    qpp_submissions -> qpp_submissions_versions/..) as the first version, by hard links: no copy, and the old
    paths keep working until the fixed links replace them. Idempotent, and safe to crash and run again."""
    if current_version(data_dir) is None:
        legacy_db = data_dir / DATABASE
        if not legacy_db.is_file() or legacy_db.is_symlink():
            return  # nothing published yet
        version = new_version(data_dir)
        os.link(legacy_db, version.database)
        _copy_tree_as_links(data_dir / DIRECTORY, version.directory)
        _copy_tree_as_links(data_dir / QPP, version.qpp)
        mark_complete(version, None, {"adopted_from": "the layout before publications/"})
        switch_current(data_dir, version)
    ensure_fixed_links(data_dir)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def prune(data_dir: Path) -> list[str]:
    """Remove everything no pointer names; returns the names removed (relative to DATA_DIR)."""
    current = current_version(data_dir)
    keep = {current.id, current.previous()} if current else set()
    removed: list[Path] = []
    root = data_dir / PUBLICATIONS
    if root.is_dir():
        removed += [p for p in sorted(root.iterdir()) if p.name not in keep]
    for name in (CURRENT, *FIXED_LINKS):  # links a crash left half-made (see _point)
        removed += sorted(data_dir.glob(f".{name}.*"))
    removed += sorted(data_dir.glob(LEGACY_BUILD_GLOB))
    if current and all(os.path.islink(data_dir / n) for n in FIXED_LINKS):
        removed += [data_dir / n for n in LEGACY_VERSION_ROOTS if (data_dir / n).exists()]
    removed = sorted(set(removed))
    for path in removed:
        _remove(path)
    return [path.relative_to(data_dir).as_posix() for path in removed]


def discard(version: Version) -> None:
    """Remove a version that failed before it was complete (never the current one)."""
    current = current_version(version.root.parent.parent)
    if current is None or current.id != version.id:
        shutil.rmtree(version.root, ignore_errors=True)
