"""The pipeline's SparkSession when WAREHOUSE=spark: one per process, shared by the ingestion, dbt (run in-process,
orchestration/dbt_in_process.py), the checks, the risk-model fit and the publication's extracts.

Three ways to reach Spark, chosen by settings (docs/deploy.md):
- local (default): a driver in this process, SPARK_MASTER=local[2]; tables are Parquet under
  SPARK_WAREHOUSE_DIR (default DATA_DIR/spark/warehouse) and the catalog is a Hive metastore, an embedded Derby
  database under DATA_DIR/spark unless SPARK_METASTORE_URI names a metastore service. Embedded Derby admits one
  process at a time, as DuckDB does: the DATA_DIR lock is held for as long as this process's session lives.
- a cluster: SPARK_MASTER=spark://..., k8s://..., yarn with SPARK_METASTORE_URI and a shared SPARK_WAREHOUSE_DIR.
- Spark Connect: SPARK_REMOTE=sc://host:15002; the server owns the catalog and the warehouse.

`spark_conf` is the one list of settings: profiles.yml reads the same values from the environment
(`export_spark_env`), so `dbt build --target spark` by hand starts the same session.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG4J_CONFIG = PROJECT_ROOT / "orchestration" / "spark_log4j2.properties"
# A chain of rehab episodes is as deep as the episodes in one island of visits; Spark stops recursion at 100.
CTE_RECURSION_LIMIT = 10_000

_lock = threading.Lock()
_session: tuple[str, "SparkSession", object] | None = None  # (identity, session, DATA_DIR lock holder)


def metastore_dir(settings: Settings) -> Path:
    return settings.data_dir / "spark" / "metastore_db"


def spark_conf(settings: Settings) -> dict[str, str]:
    """Spark settings of the pipeline's session (static ones apply when this process starts the driver)."""
    conf = {
        # dbt-spark sets ANSI mode off for every statement it runs (Spark 3 and 4 alike); the pipeline's own
        # statements run under the same rules, so a bad cast is NULL everywhere (the rules quarantine first).
        "spark.sql.ansi.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.cteRecursionLevelLimit": str(CTE_RECURSION_LIMIT),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
    }
    if settings.spark_remote:
        return conf
    conf.update({
        "spark.master": settings.spark_master,
        "spark.app.name": "spine-outcomes-pipeline",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": settings.spark_warehouse_dir,
        "spark.sql.legacy.createHiveTableByDefault": "false",
        # quiet Spark's console (warnings and errors reach Python as exceptions), Derby's log under DATA_DIR
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG} "
                                         f"-Dderby.system.home={settings.data_dir / 'spark'}",
    })
    if settings.spark_metastore_uri:
        conf["spark.hadoop.hive.metastore.uris"] = settings.spark_metastore_uri
    else:
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={metastore_dir(settings)};create=true")
    return conf


def export_spark_env(settings: Settings) -> None:
    """profiles.yml's spark outputs read these (the session method passes them to SparkSession.builder)."""
    os.environ["DBT_TARGET"] = settings.dbt_target
    os.environ["SPARK_CONF_JSON"] = __import__("json").dumps(spark_conf(settings))
    if settings.spark_remote:
        os.environ["SPARK_REMOTE"] = settings.spark_remote
    if settings.spark_thrift:
        host, _, port = settings.spark_thrift.rpartition(":")
        os.environ["SPARK_THRIFT_HOST"], os.environ["SPARK_THRIFT_PORT"] = host, port


def _identity(settings: Settings) -> str:
    return repr(sorted(spark_conf(settings).items())) + (settings.spark_remote or "")


def get_spark(settings: Settings) -> "SparkSession":
    """This process's session for `settings`, started on first use (about 9 s for a local driver's JVM).

    A local driver with the embedded metastore holds the DATA_DIR lock until the process ends (or stop_spark):
    Derby lets no other process open the catalog meanwhile. A process asked for a session on other settings
    (another DATA_DIR in the tests) stops its session first."""
    global _session
    with _lock:
        identity = _identity(settings)
        if _session is not None and _session[0] == identity:
            return _session[1]
        if _session is not None:
            _stop_locked()
        holder = _hold_data_dir(settings)
        try:
            session = _build(settings)
        except BaseException:
            if holder is not None:
                holder.__exit__(None, None, None)
            raise
        _session = (identity, session, holder)
        return session


def _hold_data_dir(settings: Settings):
    if settings.spark_remote or settings.spark_metastore_uri:
        return None  # the catalog is a service that many processes may use at once
    from orchestration.data_dir_lock import data_dir_lock

    holder = data_dir_lock(settings.data_dir, settings.lock_wait_seconds, holder="a Spark session (embedded metastore)")
    holder.__enter__()
    return holder


def _build(settings: Settings) -> "SparkSession":
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    # Python workers (if Spark needs any) run this interpreter, with the project's packages, not `python3` on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # pandas 3 is pinned knowingly (pyproject.toml): the pipeline moves data to and from Spark as Arrow
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from pyspark.sql import SparkSession

    if settings.spark_remote:
        builder = SparkSession.builder.remote(settings.spark_remote)
    else:
        (settings.data_dir / "spark").mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in spark_conf(settings).items():  # an existing session (tests) takes the runtime settings
        if not key.startswith(("spark.master", "spark.driver", "spark.app", "spark.ui", "spark.hadoop")) and \
                key not in ("spark.sql.catalogImplementation", "spark.sql.warehouse.dir"):
            session.conf.set(key, value)
    return session


def _stop_locked() -> None:
    global _session
    if _session is None:
        return
    _, session, holder = _session
    _session = None
    try:
        session.stop()
        _shutdown_derby(session)
    finally:
        if holder is not None:
            holder.__exit__(None, None, None)


def _shutdown_derby(session) -> None:
    """Close the embedded metastore so that another process (or session) may open it."""
    try:
        jvm = session.sparkContext._jvm  # noqa: SLF001 - only a local driver has a JVM here
        jvm.java.sql.DriverManager.getConnection("jdbc:derby:;shutdown=true")
    except Exception:  # noqa: BLE001 - Derby reports a successful shutdown as an exception
        pass


def stop_spark() -> None:
    """Stop this process's session (if any) and release the DATA_DIR lock it holds."""
    with _lock:
        _stop_locked()


atexit.register(stop_spark)
