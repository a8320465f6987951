"""The publish stage at scale, before and after the reporting layer moved to dbt, on a copy of a built warehouse.

    python benchmarks/profile_publish.py WAREHOUSE [--base REV] [--rounds 2] [--materialized table,view]

On a scratch copy of WAREHOUSE (one built by the pipeline, e.g. a `make bench` run's data/warehouse.duckdb):
  previous:  the previous code's publisher (`git archive REV`), which computed the exact tables in Python;
  current:   `dbt run` of the reporting models (materialized as each --materialized value) + the current publisher;
  metadata:  what dagster-dbt's fetch_row_counts / fetch_column_metadata cost on this warehouse (a count(*) and a
             column listing per model through the dbt adapter, as the dbt assets do after each build).
Rounds alternate (previous, current, previous, current ...) so a busy machine weighs on both alike. Each line
gives wall seconds and CPU seconds (user + system of the child processes). Both publishers use 2 threads, 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.compare_publications import PUBLISH, checkout  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")
SELECTION = ["models/intermediate/reporting", "models/reporting"]

METADATA = """
import json, sys, time
from pathlib import Path
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import _get_relation_from_adapter
project = Path(sys.argv[1])
manifest = json.loads((project / "target" / "manifest.json").read_text())
resource = DbtCliResource(project_dir=str(project), profiles_dir=str(project), dbt_executable=sys.argv[2])
adapter = resource._initialize_dbt_core_adapter(["run"])
nodes = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")]
started = time.perf_counter()
for node in nodes:
    with adapter.connection_named("row_count_" + node["unique_id"]):
        if node["config"]["materialized"] != "view":
            adapter.execute(f"select count(*) from {node['relation_name']}", fetch=True)
    with adapter.connection_named("columns_" + node["unique_id"]):
        adapter.get_columns_in_relation(adapter.Relation.create(
            database=node["database"], schema=node["schema"], identifier=node["alias"]))
print(json.dumps({"models_and_seeds": len(nodes), "seconds": time.perf_counter() - started}))
"""


def timed(label: str, cmd: list[str], **kwargs) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{label:45} wall {wall:7.1f} s   cpu {cpu:7.1f} s", flush=True)
    return {"label": label, "wall": wall, "cpu": cpu, "stdout": out.stdout[-2000:]}


def project_copy(root: Path, materialized: str) -> Path:
    """The dbt project with the reporting models (both folders) materialized as `materialized`."""
    project = root / f"dbt_project_{materialized}"
    if project.exists():
        return project
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    config = project / "dbt_project.yml"
    text = config.read_text().replace(
        "    reporting:\n      +schema: reporting\n",
        f"    reporting:\n      +schema: reporting\n      +materialized: {materialized}\n")
    text = text.replace(
        "    intermediate:\n      +schema: intermediate\n",
        f"    intermediate:\n      +schema: intermediate\n      reporting:\n        +materialized: {materialized}\n")
    config.write_text(text)
    return project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--base", default="61d7560")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--materialized", default="table,view")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="profile-publish-"))
    copy = root / "warehouse.duckdb"
    shutil.copyfile(args.warehouse, copy)
    previous_code = checkout(args.base, root / "previous_code")
    env = {**os.environ, "WAREHOUSE_PATH": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DUCKDB_MEMORY_LIMIT": "4GB"}
    from orchestration.assets.code_labels import write_code_labels
    import duckdb

    with duckdb.connect(str(copy)) as con:
        write_code_labels(con, None)
    results = []
    for round_ in range(1, args.rounds + 1):
        results.append(timed(f"[{round_}] previous publisher (exact tables in Python)",
                             [sys.executable, "-c", PUBLISH, str(copy), str(root / f"prev_{round_}")],
                             cwd=previous_code, env={**env, "PYTHONPATH": str(previous_code)}))
        for materialized in args.materialized.split(","):
            project = project_copy(root, materialized)
            results.append(timed(f"[{round_}] dbt run reporting models ({materialized})",
                                 [str(DBT), "run", "--select", *SELECTION, "--project-dir", str(project),
                                  "--profiles-dir", str(project), "--threads", "2"], env=env))
            results.append(timed(f"[{round_}] current publisher (on {materialized}s)",
                                 [sys.executable, "-c", PUBLISH, str(copy), str(root / f"cur_{materialized}_{round_}")],
                                 cwd=REPO, env={**env, "PYTHONPATH": str(REPO)}))
    project = project_copy(root, args.materialized.split(",")[0])
    results.append(timed("row counts + column schemas of every model (dagster-dbt path)",
                         [sys.executable, "-c", METADATA, str(project), str(DBT)], env=env))
    print(results[-1]["stdout"].strip())
    (root / "results.json").write_text(json.dumps(results, indent=2))
    print(f"results: {root / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
