"""Every run-time setting, in one place: a table of settings read from the environment and an optional settings
file (TOML or YAML, the same names), validated at start.

Precedence: an environment variable (when set and not empty) wins over the settings file, which wins over the
default. The settings file is `--config FILE` on the command line, or the file named by SPINE_PIPELINE_CONFIG
(the command line sets it, so the Dagster UI's code server and every resource read the same file). Relative
paths in a settings file are relative to the file's folder. `spine-pipeline config` prints the effective
values and where each came from; a bad value is a SettingError naming the setting, the value and what is
accepted (the command line prints it on one line and exits 2).

To add a setting: one row in SETTINGS (name, parser, default, help) and one field on Settings.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SAMPLE_PERSONS = 10_000
DEFAULT_SAMPLE_SEED = 20260101
CONFIG_ENV = "SPINE_PIPELINE_CONFIG"
# What the publisher writes under DATA_DIR: the pointer `current`, the versions under publications/ and the fixed
# links through it (docs/published_tables.md), and the older layout's version folders.
PUBLISHED_NAMES = ("published.duckdb", "published", "published_versions", "qpp_submissions", "qpp_submissions_versions",
                   "current", "publications")


class SettingError(ValueError):
    """A setting's value is not accepted; the message is one line for the operator."""


@dataclass(frozen=True)
class Setting:
    name: str  # environment variable and settings-file key
    field: str  # attribute of Settings
    # (text, folder relative paths resolve against, the values of the settings above it) -> value; ValueError if bad
    parse: Callable[[str, Path, dict[str, Any]], Any]
    accepted: str  # what a valid value looks like (error messages and --help)
    help: str
    default: Callable[[dict[str, Any]], Any] = lambda _: None  # from the settings parsed before it
    unset: str = "(not set)"  # what no value means, for `spine-pipeline config`
    is_list: bool = False  # comma-separated in the environment; a list in a settings file


def _path(text: str, base: Path) -> Path:
    return (base / Path(text).expanduser()).resolve()


def _folder(text: str, base: Path, _: dict) -> Path:
    path = _path(text, base)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file")
    return path


def _iso_date(text: str, *_) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError
    return date.fromisoformat(text)


def parse_tin(text: str) -> str:
    """One TIN as the warehouse holds it: 9 digits, hyphens and blanks left out. ValueError otherwise."""
    tin = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{9}", tin):
        raise ValueError(f"{text.strip()!r} is not a TIN")
    return tin


def _tin_list(text: str, base: Path, _: dict) -> tuple[str, ...]:
    """Comma-separated TINs, or @FILE with one per line (# comments); hyphens and blanks are ignored."""
    if text.startswith("@"):
        path = _path(text[1:].strip(), base)
        if not path.is_file():
            raise ValueError(f"file {path} does not exist")
        lines = [line.split("#", 1)[0] for line in path.read_text(encoding="utf-8-sig").splitlines()]
        text = ",".join(lines)
    tins = []
    for item in text.split(","):
        if item.strip():
            tins.append(parse_tin(item))
    if not tins:
        raise ValueError("no TIN listed")
    return tuple(dict.fromkeys(tins))


def _positive_int(text: str, *_) -> int:
    if not re.fullmatch(r"[1-9]\d*", text):
        raise ValueError
    return int(text)


def _port(text: str, *_) -> int:
    port = _positive_int(text)
    if port > 65535:
        raise ValueError
    return port


def _log_level(text: str, *_) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise ValueError
    return level


def _memory(text: str, *_) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B)", text, flags=re.IGNORECASE):
        raise ValueError
    return text.replace(" ", "")


def _jvm_memory(text: str, *_) -> str:
    """A JVM size (2g, 512m); 2GB and 2GiB are read as 2g."""
    match = re.fullmatch(r"(\d+)\s*([kmgt])(i?b)?", text, flags=re.IGNORECASE)
    if not match:
        raise ValueError
    return f"{match.group(1)}{match.group(2).lower()}"


def _seconds(text: str, *_) -> float:
    value = float(text)  # ValueError when not a number
    if not value >= 0:
        raise ValueError
    return value


def _share(text: str, *_) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError
    return value


def _flag(text: str, *_) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError
    return text.lower() == "true"


def _warehouse(text: str, *_) -> str:
    if text.lower() not in WAREHOUSES:
        raise ValueError
    return text.lower()


def _spark_master(text: str, *_) -> str:
    if not re.fullmatch(r"local(\[(\d+|\*)\])?|(spark|k8s|mesos)://\S+|yarn", text):
        raise ValueError
    return text


def _url(*schemes: str) -> Callable[..., str]:
    def parse(text: str, *_) -> str:
        if not re.fullmatch(rf"({'|'.join(schemes)})://[^\s/:]+(:\d+)?(/\S*)?", text):
            raise ValueError
        return text
    return parse


def _host_port(text: str, *_) -> str:
    if not re.fullmatch(r"[^\s:]+:\d+", text):
        raise ValueError
    return text


def _location(text: str, base: Path, _: dict) -> str:
    """A folder, or a URI a Hadoop file system reads (s3a://, abfss://, hdfs://, file:/)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:/", text):
        return text
    return str(_folder(text, base, _))


def _export_folder(text: str, base: Path, values: dict) -> Path:
    """An absolute folder outside the published outputs: what is written there holds patient identifiers."""
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise ValueError("not an absolute path")
    if path.exists() and not path.is_dir():
        raise ValueError("it exists and is not a folder")
    if is_published_path(path, values["data_dir"]):
        raise ValueError(f"it is inside the published outputs under {values['data_dir']}: the worklist holds patient "
                         "identifiers and is never published")
    return path


def is_published_path(path: Path, data_dir: Path) -> bool:
    """Whether `path` is, or is inside, one of the published outputs under `data_dir` (symbolic links followed)."""
    path = Path(path).expanduser().absolute()
    for name in PUBLISHED_NAMES:
        for published in {data_dir / name, (data_dir / name).resolve()}:
            if any(p == published or p.is_relative_to(published) for p in {path, path.resolve()}):
                return True
    return False


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WAREHOUSES = ("duckdb", "spark")

SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", "data_dir", _folder, "a folder path",
            "warehouse.duckdb (pipeline only), published.duckdb and published/ (analysts), the Dagster instance",
            default=lambda _: DEFAULT_DATA_DIR.resolve()),
    Setting("LANDING_DIR", "landing_dir", _folder, "a folder path",
            "raw deliveries: LANDING_DIR/<table>/*.csv|parquet or LANDING_DIR/<table>*.csv (docs/data_contract.md)",
            default=lambda values: values["data_dir"] / "sample"),
    Setting("AS_OF_DATE", "as_of_date", _iso_date, "a date YYYY-MM-DD",
            "the data's as-of date: later data are ignored, it decides pending cases (default: the latest "
            "service or observation date loaded)", unset="(the latest date loaded)"),
    Setting("MEASURE_220_TINS", "measure_220_tins", _tin_list,
            "comma-separated 9-digit TINs, or @FILE with one TIN per line (# comments; hyphens and blanks ignored)",
            "the TINs that report measure 220, every performance year; replaces the default scope rule (a TIN is "
            "in scope for a year when one of its episodes ending that year has an intake FS score)",
            unset="(derived from the data)", is_list=True),
    Setting("RISK_MODEL_VERSION", "risk_model_version", _positive_int, "a version number 1, 2, ...",
            "pin the open measure-220 risk model version applied (default: the latest fitted)",
            unset="(the latest fitted)"),
    Setting("LOG_LEVEL", "log_level", _log_level, " / ".join(LOG_LEVELS),
            "what the console shows of Dagster's run log (every event is in the run's log: make ui); INFO or DEBUG: "
            "dbt's line per model and test too",
            default=lambda _: "WARNING"),
    Setting("WAREHOUSE", "warehouse", _warehouse, " or ".join(WAREHOUSES),
            "the engine of the warehouse: duckdb (one file, DATA_DIR/warehouse.duckdb) or spark (a SparkSession: "
            "local, a cluster or Spark Connect; docs/deploy.md)", default=lambda _: "duckdb"),
    Setting("SPARK_MASTER", "spark_master", _spark_master, "local[N], local[*], spark://HOST:PORT, k8s://URL, yarn",
            "WAREHOUSE=spark: the master of the driver the pipeline starts in its own process",
            default=lambda _: "local[2]"),
    Setting("SPARK_REMOTE", "spark_remote", _url("sc"), "a Spark Connect URL sc://HOST[:PORT]",
            "WAREHOUSE=spark: reach Spark through this Spark Connect server instead of starting a driver "
            "(SPARK_MASTER, SPARK_WAREHOUSE_DIR and SPARK_METASTORE_URI are then the server's)",
            unset="(start a driver)"),
    Setting("SPARK_WAREHOUSE_DIR", "spark_warehouse_dir", _location, "a folder path or a URI (s3a://, abfss://, hdfs://)",
            "WAREHOUSE=spark: where the tables' Parquet files live",
            default=lambda values: str(values["data_dir"] / "spark" / "warehouse")),
    Setting("SPARK_METASTORE_URI", "spark_metastore_uri", _url("thrift"), "a Hive metastore URI thrift://HOST:PORT",
            "WAREHOUSE=spark: the catalog's metastore service (default: an embedded one under DATA_DIR/spark, "
            "one process at a time)", unset="(embedded, under DATA_DIR/spark)"),
    Setting("SPARK_THRIFT", "spark_thrift", _host_port, "HOST:PORT of a Spark Thrift server",
            "WAREHOUSE=spark: run dbt through this Thrift server (dbt-spark's thrift method, which needs "
            "`pip install dbt-spark[PyHive]`) instead of in the pipeline's own session", unset="(dbt in the session)"),
    Setting("SPARK_DRIVER_MEMORY", "spark_driver_memory", _jvm_memory, "a size such as 2g, 512m, 4GB",
            "WAREHOUSE=spark: memory of the driver the pipeline starts", default=lambda _: "2g"),
    Setting("SPARK_SHUFFLE_PARTITIONS", "spark_shuffle_partitions", _positive_int, "a whole number >= 1",
            "WAREHOUSE=spark: spark.sql.shuffle.partitions (small data on few cores: a few; a cluster: hundreds)",
            default=lambda _: 2),
    Setting("DUCKDB_MEMORY_LIMIT", "duckdb_memory_limit", _memory, "a size such as 4GB, 512MB, 2GiB",
            "the warehouse engine's memory limit; it spills to DATA_DIR/tmp beyond it",
            default=lambda _: "4GB"),
    Setting("DUCKDB_THREADS", "duckdb_threads", _positive_int, "a whole number >= 1",
            "threads of the warehouse engine", default=lambda _: 2),
    Setting("DBT_THREADS", "dbt_threads", _positive_int, "a whole number >= 1",
            "dbt models built at once on DuckDB; each spills on its own, so 1 bounds the disk at ~100M claim lines "
            "(docs/performance.md)", default=lambda _: 2),
    Setting("LOCK_WAIT_SECONDS", "lock_wait_seconds", _seconds, "a number of seconds >= 0",
            "how long a run (or a Dagster step) waits for another run on the same DATA_DIR before giving up "
            "(exit code 3); 0: at once (docs/operations.md)", default=lambda _: 0.0),
    Setting("ALLOW_MISSING_REQUIRED_DATA", "allow_missing_required_data", _flag, "true or false",
            "true: publish even when a required raw table is empty or its latest delivery dropped (the check "
            "warns instead of blocking)", default=lambda _: False),
    Setting("DELIVERY_DROP_MAX_SHARE", "delivery_drop_max_share", _share, "a share between 0 and 1",
            "the largest share by which a required table's latest delivery may fall short of the one before "
            "without a warning", default=lambda _: 0.5),
    Setting("DELIVERY_DROP_BLOCKS", "delivery_drop_blocks", _flag, "true or false",
            "true: a drop beyond DELIVERY_DROP_MAX_SHARE blocks the publication (default: it warns)",
            default=lambda _: False),
    Setting("WORKLIST_EXPORT_DIR", "worklist_export_dir", _export_folder,
            "an absolute folder path outside DATA_DIR's published outputs",
            "folder of the weekly follow-up worklist export (schedule weekly_worklist_export, off by default; "
            "docs/worklist.md)", unset="(no weekly export)"),
    Setting("DATA_DOCS_PORT", "data_docs_port", _port, "a port number 1-65535",
            "port of the local Data Docs server `spine-pipeline ui` starts beside the Dagster UI (the checks "
            "link their Data Docs page there)", default=lambda _: 3001),
    Setting("LANDING_SENSOR_INTERVAL_SECONDS", "landing_sensor_interval_seconds", _positive_int,
            "a whole number of seconds >= 1",
            "how often the landing sensor of the Dagster deployment (`spine-pipeline ui`) looks for new files "
            "(docs/operations.md)", default=lambda _: 60),
)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    as_of_date: date | None = None
    measure_220_tins: tuple[str, ...] | None = None
    risk_model_version: int | None = None
    log_level: str = "WARNING"
    warehouse: str = "duckdb"
    spark_master: str = "local[2]"
    spark_remote: str | None = None
    spark_warehouse_dir: str = ""
    spark_metastore_uri: str | None = None
    spark_thrift: str | None = None
    spark_driver_memory: str = "2g"
    spark_shuffle_partitions: int = 2
    duckdb_memory_limit: str = "4GB"
    duckdb_threads: int = 2
    dbt_threads: int = 2
    lock_wait_seconds: float = 0.0
    allow_missing_required_data: bool = False
    delivery_drop_max_share: float = 0.5
    delivery_drop_blocks: bool = False
    worklist_export_dir: Path | None = None
    data_docs_port: int = 3001
    landing_sensor_interval_seconds: int = 60
    # where each value came from: "default", "env" or "file <path>" (by setting name)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def is_spark(self) -> bool:
        return self.warehouse == "spark"

    @property
    def dbt_target(self) -> str:
        """The output of dbt_project/profiles.yml that dbt runs on."""
        if not self.is_spark:
            return "duckdb"
        return "spark_thrift" if self.spark_thrift else "spark"

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

    def dbt_vars(self) -> dict[str, Any]:
        """The dbt vars the settings decide (the as-of date is resolved against the warehouse by the assets)."""
        out: dict[str, Any] = {}
        if self.measure_220_tins is not None:
            out["measure_220_tins_in_scope"] = list(self.measure_220_tins)
        if self.risk_model_version is not None:
            out["risk_model_version"] = self.risk_model_version
        return out

    def environment(self) -> dict[str, str]:
        """Every value that is not a default, as the environment variable would hold it (paths absolute): what a
        child process (the UI's code server, in another folder) needs to load the same settings."""
        return {s.name: self.shown(s) for s in SETTINGS if self.sources.get(s.name, "default") != "default"}

    def shown(self, setting: Setting) -> str:
        value = getattr(self, setting.field)
        if value is None:
            return setting.unset
        if isinstance(value, tuple):
            return ",".join(value)
        return value.isoformat() if isinstance(value, date) else str(value)


def _file_text(value: Any, is_list: bool = False) -> str:
    """A settings-file value as the text an environment variable would hold. A list is refused where one value is
    expected: `AS_OF_DATE: [2018-12-31]` was taken for its one item."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        raise ValueError
    if isinstance(value, list):
        if not is_list:
            raise ValueError
        return ",".join(_file_text(v) for v in value)
    return value.isoformat() if isinstance(value, date) else str(value)


def _has_number(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, int) and not isinstance(v, bool) for v in values)


def read_settings_file(path: Path) -> dict[str, Any]:
    """{SETTING_NAME: value} from a TOML (.toml) or YAML (.yaml, .yml) file."""
    if not path.is_file():
        raise SettingError(f"settings file {path} does not exist")
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # Notepad writes a byte-order mark
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        else:
            raise SettingError(f"settings file {path}: expected a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingError(f"settings file {path} is not valid {path.suffix[1:].upper()}: {first}") from None
    if not isinstance(data, dict):
        raise SettingError(f"settings file {path}: expected NAME = value pairs at the top level")
    known = {s.name for s in SETTINGS}
    values = {str(k).upper(): v for k, v in data.items()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingError(f"settings file {path}: unknown setting {unknown[0]} (known: {', '.join(sorted(known))})")
    return values


def load_settings(env: Mapping[str, str] | None = None, config_file: Path | str | None = None) -> Settings:
    """Effective settings: environment (non-empty) > settings file > default. Raises SettingError."""
    env = dict(os.environ if env is None else env)
    config = config_file or env.get(CONFIG_ENV) or None
    config_path = Path(config).expanduser().resolve() if config else None
    from_file = read_settings_file(config_path) if config_path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        text, source, base = (env.get(setting.name) or "").strip(), "env", Path.cwd()
        if not text and setting.name in from_file:
            try:
                text = _file_text(from_file[setting.name], setting.is_list).strip()
            except ValueError:
                raise SettingError(f"{setting.name}={from_file[setting.name]!r} in {config_path} is not valid; "
                                   f"expected {setting.accepted}") from None
            source, base = f"file {config_path}", config_path.parent
        if not text:
            values[setting.field], sources[setting.name] = setting.default(values), "default"
            continue
        try:
            values[setting.field] = setting.parse(text, base, values)
        except ValueError as exc:
            detail = f" ({exc})" if str(exc) else ""
            where = "" if source == "env" else f" in {config_path}"
            if source != "env" and setting.name == "MEASURE_220_TINS" and _has_number(from_file[setting.name]):
                detail += (" - write TINs in quotes: a YAML or TOML number drops leading zeros, and YAML reads "
                           "0-prefixed digits as octal")
            raise SettingError(f"{setting.name}={text!r}{where} is not valid{detail}; expected "
                               f"{setting.accepted}") from None
        sources[setting.name] = source
    return Settings(**values, sources=sources)


def default_sample_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or DEFAULT_DATA_DIR) / "sample"
