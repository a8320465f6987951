"""The landing sensor: every new or changed file under LANDING_DIR registers its delivery partition and
requests an ingest_job run of its table for that delivery, one run for all the files of a table and delivery that
changed since the last evaluation (a Parquet dataset's part files). The run key is the file's sha256 (several files:
the sha256 of their sorted sha256s), so a file seen before (or the same content delivered again under another
name) never launches a second run. A file that is
not read (format, folder, name: orchestration/ingest/discovery.py) is logged once as a warning.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.ingest.discovery import file_sha256, scan_landing
from orchestration.jobs import RAW_GROUP, ingest_job
from orchestration.partitions import delivery_partitions
from orchestration.settings import load_settings

# LANDING_SENSOR_INTERVAL_SECONDS, read when the code location loads (the deployment's code server)
SENSOR_INTERVAL_SECONDS = load_settings().landing_sensor_interval_seconds


def _fingerprint(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def landing_sensor_result(context: dg.SensorEvaluationContext, landing_dir: Path) -> dg.SensorResult:
    """Hash only files that are new or changed since the cursor (size, mtime), so large landings stay cheap."""
    seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    known_partitions = set(context.instance.get_dynamic_partitions(delivery_partitions.name))
    run_requests, new_partitions, cursor = [], set(), {}
    landing = scan_landing(landing_dir)
    for unread in landing.not_read:
        key = f"not read: {unread.path}"
        if key not in seen:
            context.log.warning(f"{unread.path} is not read: {unread.reason}")
        cursor[key] = unread.reason
    changed: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (table, delivery) -> [(file, sha256)]
    for table, path in landing.files:
        rel = path.relative_to(landing_dir).as_posix()
        fingerprint = _fingerprint(path)
        previous = seen.get(rel)
        if previous and previous[:2] == fingerprint:
            cursor[rel] = previous
            continue
        digest = file_sha256(path)
        cursor[rel] = [*fingerprint, digest]
        changed.setdefault((table, landing.deliveries[path]), []).append((rel, digest))
    # one run per table and delivery, however many of its files changed (a Parquet dataset's part files)
    for (table, key), files in sorted(changed.items()):
        if key not in known_partitions:
            new_partitions.add(key)
        digests = sorted(digest for _, digest in files)
        run_requests.append(
            dg.RunRequest(
                run_key=digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest(),
                partition_key=key,
                asset_selection=[dg.AssetKey([RAW_GROUP, table])],
                tags={"landing/table": table, "landing/file": files[0][0], "landing/files": str(len(files))},
            )
        )
    requests = [delivery_partitions.build_add_request(sorted(new_partitions))] if new_partitions else []
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=requests,
                           cursor=json.dumps(cursor, sort_keys=True))


@dg.sensor(job=ingest_job, minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
           description="Watches LANDING_DIR; one ingest run per new landing file (run key = its sha256).")
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    return landing_sensor_result(context, load_settings().landing_dir)


SENSORS = [landing_sensor]
