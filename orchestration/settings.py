"""Every run-time setting, in one place, overridable from the environment.

LANDING_DIR  raw deliveries (one folder per table); default: the bundled sample under data/sample.
DATA_DIR     warehouse and published outputs; default: data/.
AS_OF_DATE   the data's as-of date (YYYY-MM-DD); default: the latest service or observation date loaded.
DUCKDB_MEMORY_LIMIT / DUCKDB_THREADS  bound the warehouse engine (it spills to $DATA_DIR/tmp beyond the limit).
LOCK_WAIT_SECONDS  how long a run waits for another run on the same DATA_DIR (default 0: exit at once, code 3).
ALLOW_MISSING_REQUIRED_DATA  true: publish even when a required raw table is empty or its delivery dropped.
DELIVERY_DROP_MAX_SHARE  largest drop (0-1) of a required table's latest delivery against the one before.
WORKLIST_EXPORT_DIR  folder for the weekly follow-up worklist export (optional; an absolute path outside the
             published outputs: the export holds patient identifiers). See docs/worklist.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SAMPLE_PERSONS = 10_000
DEFAULT_SAMPLE_SEED = 20260101
# What the publisher writes under DATA_DIR: the pointer `current`, the versions under publications/ and the fixed
# links through it (docs/published_tables.md), and the older layout's version folders.
PUBLISHED_NAMES = ("published.duckdb", "published", "published_versions", "qpp_submissions", "qpp_submissions_versions",
                   "current", "publications")


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    as_of_date: date | None
    duckdb_memory_limit: str
    duckdb_threads: int
    lock_wait_seconds: float = 0.0
    allow_missing_required_data: bool = False
    delivery_drop_max_share: float = 0.5
    worklist_export_dir: Path | None = None

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_db_path(self) -> Path:
        return self.data_dir / "published.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def spill_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def data_docs_dir(self) -> Path:
        return self.data_dir / "data_docs"


def default_sample_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or DEFAULT_DATA_DIR) / "sample"


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _flag(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw not in _TRUE + _FALSE:
        raise ValueError(f"{name} must be true or false, got {raw!r}")
    return raw in _TRUE


def _number(env: dict[str, str], name: str, default: float, low: float, high: float | None = None) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value >= low and (high is None or value <= high)):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"a number >= {low:g}"
        raise ValueError(f"{name} must be {bounds}, got {raw!r}")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    landing = Path(env.get("LANDING_DIR") or default_sample_dir(data_dir)).resolve()
    as_of_raw = (env.get("AS_OF_DATE") or "").strip()
    try:
        as_of = date.fromisoformat(as_of_raw) if as_of_raw else None
    except ValueError as exc:
        raise ValueError(f"AS_OF_DATE must be an ISO date (YYYY-MM-DD), got {as_of_raw!r}") from exc
    return Settings(
        landing_dir=landing,
        data_dir=data_dir,
        as_of_date=as_of,
        duckdb_memory_limit=env.get("DUCKDB_MEMORY_LIMIT", "4GB"),
        duckdb_threads=int(env.get("DUCKDB_THREADS", "2")),
        lock_wait_seconds=_number(env, "LOCK_WAIT_SECONDS", 0.0, 0.0),
        allow_missing_required_data=_flag(env, "ALLOW_MISSING_REQUIRED_DATA"),
        delivery_drop_max_share=_number(env, "DELIVERY_DROP_MAX_SHARE", 0.5, 0.0, 1.0),
        worklist_export_dir=_worklist_export_dir(env.get("WORKLIST_EXPORT_DIR", ""), data_dir),
    )


def is_published_path(path: Path, data_dir: Path) -> bool:
    """Whether `path` is, or is inside, one of the published outputs under `data_dir` (symbolic links followed)."""
    path = Path(path).expanduser().absolute()
    for name in PUBLISHED_NAMES:
        for published in {data_dir / name, (data_dir / name).resolve()}:
            if any(p == published or p.is_relative_to(published) for p in {path, path.resolve()}):
                return True
    return False


def _worklist_export_dir(raw: str, data_dir: Path) -> Path | None:
    if not raw.strip():
        return None
    path = Path(raw.strip()).expanduser()
    if not path.is_absolute():
        raise ValueError(f"WORKLIST_EXPORT_DIR must be an absolute path, got {raw!r}")
    if path.exists() and not path.is_dir():
        raise ValueError(f"WORKLIST_EXPORT_DIR {raw!r} exists and is not a folder")
    if is_published_path(path, data_dir):
        raise ValueError(f"WORKLIST_EXPORT_DIR {raw!r} is inside the published outputs under {data_dir}: the worklist "
                         "holds patient identifiers and is never published")
    return path
