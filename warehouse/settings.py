"""The one place chiso's settings come from.

Every value is read from an environment variable and has a local default, so a fresh
checkout runs with no configuration. All runtime data lives under one directory,
``CHISO_DATA_DIR`` (default: ``data/`` at the project root, ignored by git).

| variable               | default                                   |
| ---------------------- | ----------------------------------------- |
| CHISO_DATA_DIR         | <project>/data                            |
| CHISO_INBOX_DIR        | <data>/inbox         (unit report files)  |
| CHISO_LANDING_DIR      | <data>/landing       (immutable raw files)|
| CHISO_QUARANTINE_DIR   | <data>/quarantine    (rejected + report)  |
| CHISO_WAREHOUSE_PATH   | <data>/warehouse/chiso.duckdb (work area) |
| CHISO_PUBLISHED_PATH   | <data>/published/chiso.duckdb (BI reads)  |
| CHISO_SNAPSHOT_DIR     | <data>/snapshots                          |
| CHISO_DBT_PROJECT_DIR  | <project>/dbt_project                     |
| CHISO_PORTAL_BASE_URL  | https://dichvucong.gov.vn                 |
| CHISO_TIMEZONE         | Asia/Ho_Chi_Minh                          |
| CHISO_KEEP_VERSIONS    | 5 (earlier published files kept)          |
| CHISO_HTTP_TIMEOUT / _ATTEMPTS / _BACKOFF | 30 s / 3 / 2 s (portal)  |
| CHISO_HTTP_MIN_INTERVAL | 1 s between requests to one host (polite) |
| CHISO_PORTAL_APIS      | new,old (index-766 APIs to fetch)         |
| CHISO_PORTAL_SUB_UNITS | H37 (portal codes whose departments, communes are fetched) |
| CHISO_PORTAL_PAGE_SIZE | 100 (old API page size; pages fetched until a short one) |
| CHISO_DATA_DOCS        | 1 (write Great Expectations Data Docs; 0 saves ~0.6 s a run) |
| CHISO_WAREHOUSE        | duckdb (or postgres: raw, dbt, gate and publication there) |
| CHISO_PROVINCES        | 20,08,14 (the provinces this instance serves, post-2025 codes) |
| CHISO_PG_HOST/_PORT/_USER/_PASSWORD/_DBNAME | 127.0.0.1/5432/chiso/(empty)/chiso |
| AIRFLOW_CONN_CHISO_WAREHOUSE | (unset) an Airflow connection URI, postgresql://...; |
|                        | wins over CHISO_PG_*; in an Airflow task without it, the    |
|                        | connection chiso_warehouse is asked of Airflow (metadata    |
|                        | database, secrets backend: dags/chiso_common.py)            |
| CHISO_ALERT_WEBHOOK    | (unset) URL a failed Airflow task POSTs to (chiso/tasks.py); |
|                        | the reminders to report are POSTed there too (chiso/reminders.py) |
| CHISO_TEMPLATE_URL     | (unset) where units download the report template, said in reminders |
| CHISO_COSMOS_MODE      | watcher (how the model-by-model DAG runs dbt: runner, subprocess) |
| CHISO_FAULT_KILL_AT, CHISO_FAULT_PAUSE_BEFORE_REPLACE | (tests) kill or pause at a named point |
| CHISO_MAX_FILE_BYTES   | 20 MiB (a larger report file is rejected) |
| CHISO_MAX_XLSX_EXPANDED_BYTES | 200 MiB (xlsx unpacked: zip bombs)  |
| CHISO_INGEST_WORKERS   | the machine's cores (processes reading report files; 1: in-process) |
| CHISO_VERBOSE          | 0 (1: dbt's and third-party logs in the output, not only in files) |
| CHISO_WEB_BASE_URL     | http://127.0.0.1:8090 (where units open their links: `chiso serve`, |
|                        | or the Airflow API server's /chiso in production)            |
| CHISO_WEB_SECRET       | (unset) the key that signs units' links; unset: a random key kept |
|                        | in <data>/web/secret.key, made on first use                   |
| CHISO_WEB_LINK_DAYS    | 120 (days a unit's link stays valid)                          |
| CHISO_WEB_UPLOADS_PER_HOUR | 12 (files a unit may send in an hour through its link)    |
| CHISO_SUPERSET_VENV    | <project>/.venv-superset (Superset's own environment: chiso bi) |
| CHISO_SUPERSET_URL     | http://127.0.0.1:8088 (where chiso bi serve listens, and      |
|                        | chiso bi import sends the dashboards)                         |
| CHISO_SUPERSET_USER    | admin (a Superset admin chiso bi imports as)                  |
| CHISO_SUPERSET_PASSWORD | (unset) its password; unset: the local Superset's, made once |
|                        | in <data>/superset/admin.password                             |
| CHISO_BI_PG_USER / _PASSWORD | superset / (empty): the login in role chiso_reader      |
|                        | Superset reads schema published as (CHISO_WAREHOUSE=postgres) |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from warehouse.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TIMEZONE_DEFAULT = "Asia/Ho_Chi_Minh"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return _resolved(value) if value else default


@lru_cache(maxsize=64)
def _resolved(value: str) -> Path:
    """A path setting made absolute, once per value: settings are read for every report
    file, and resolving is a system call per path component."""
    return Path(value).expanduser().resolve()


WAREHOUSES = ("duckdb", "postgres")


class SettingsError(UsageError, ValueError):
    """A setting has a value chiso cannot use; the message names the variable."""


@dataclass(frozen=True)
class PostgresSettings:
    """Where the PostgreSQL warehouse is. The password never appears in a repr or a log."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "chiso"
    password: str = field(default="", repr=False)
    dbname: str = "chiso"

    def environment(self) -> dict[str, str]:
        """The CHISO_PG_* variables dbt's profile reads (dbt takes nothing else)."""
        return {
            "CHISO_PG_HOST": self.host,
            "CHISO_PG_PORT": str(self.port),
            "CHISO_PG_USER": self.user,
            "CHISO_PG_PASSWORD": self.password,
            "CHISO_PG_DBNAME": self.dbname,
        }


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    inbox_dir: Path
    landing_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    published_path: Path
    snapshot_dir: Path
    dbt_project_dir: Path
    portal_base_url: str
    timezone: str
    keep_versions: int = 5
    http_timeout: float = 30.0
    http_attempts: int = 3
    http_backoff: float = 2.0
    http_min_interval: float = 1.0
    portal_apis: tuple[str, ...] = ("new", "old")
    portal_sub_units: tuple[str, ...] = ("H37",)
    portal_page_size: int = 100
    data_docs: bool = True
    max_file_bytes: int = 20 * 1024 * 1024
    max_xlsx_expanded_bytes: int = 200 * 1024 * 1024
    warehouse: str = "duckdb"
    provinces: tuple[str, ...] = ("20", "08", "14")
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    alert_webhook: str | None = None
    template_url: str | None = None
    cosmos_mode: str = "watcher"
    ingest_workers: int = 1
    duckdb_memory_limit: str = "4GB"  # dbt's DuckDB spills to disk beyond it
    verbose: bool = False  # dbt's console log streamed (else only its log file)
    web_base_url: str = "http://127.0.0.1:8090"
    web_secret: str | None = None
    web_link_days: int = 120
    web_uploads_per_hour: int = 12
    superset_venv: Path = PROJECT_ROOT / ".venv-superset"
    superset_url: str = "http://127.0.0.1:8088"
    superset_user: str = "admin"
    superset_password: str | None = None
    bi_pg_user: str = "superset"
    bi_pg_password: str | None = None
    fault_pause_before_replace: float = 0.0

    @property
    def web_dir(self) -> Path:
        """The web app's own files: the link key, revocations, the log of uploads."""
        return self.data_dir / "web"

    @property
    def candidate_dir(self) -> Path:
        """Where each run assembles and audits its publication before the atomic swap."""
        return self.published_path.parent / "candidates"

    def candidate_path(self, run_id: str) -> Path:
        return self.candidate_dir / f"{run_id}.duckdb"

    @property
    def versions_dir(self) -> Path:
        """Earlier published files, kept for `chiso rollback`."""
        return self.published_path.parent / "versions"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's manifest and run results, one folder per warehouse engine."""
        return (
            self.data_dir / "dbt" / ("target" if self.warehouse == "duckdb" else "target-postgres")
        )

    @property
    def dbt_log_dir(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    @property
    def gate_dir(self) -> Path:
        """Stored gate results, one JSON file per run."""
        return self.data_dir / "gate"

    @property
    def reminders_dir(self) -> Path:
        """The reminders of each run, one JSON file per run."""
        return self.data_dir / "reminders"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "chiso.lock"

    def ensure_dirs(self) -> None:
        for path in (
            self.inbox_dir,
            self.landing_dir,
            self.quarantine_dir,
            self.warehouse_path.parent,
            self.published_path.parent,
            self.snapshot_dir,
            self.gate_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)


def timezone() -> str:
    """CHISO_TIMEZONE, checked: the zone chiso's months, due days and schedules are in.
    Read alone by the DAG files (cheap: nothing else is resolved)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = os.environ.get("CHISO_TIMEZONE", "").strip() or TIMEZONE_DEFAULT
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"CHISO_TIMEZONE={value!r}: give an IANA time zone, e.g. {TIMEZONE_DEFAULT}"
        ) from None
    return value


def dbt_project_dir() -> Path:
    """Just the dbt project folder: read for every report file, so kept cheap."""
    return _path("CHISO_DBT_PROJECT_DIR", PROJECT_ROOT / "dbt_project")


def _list(name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())


# the warehouse as an Airflow connection: its id, and the variable Airflow reads it from
WAREHOUSE_CONNECTION_ID = "chiso_warehouse"
WAREHOUSE_CONNECTION_ENV = "AIRFLOW_CONN_CHISO_WAREHOUSE"


def _postgres() -> PostgresSettings:
    """The connection ``chiso_warehouse`` as a URI in AIRFLOW_CONN_CHISO_WAREHOUSE (set by
    the deployment, or by :func:`use_warehouse_connection` in a task that asked Airflow for
    it), else CHISO_PG_*."""
    uri = os.environ.get(WAREHOUSE_CONNECTION_ENV)
    if uri:
        parts = urlsplit(uri)
        if parts.scheme not in ("postgres", "postgresql"):
            raise SettingsError(
                f"{WAREHOUSE_CONNECTION_ENV} must be a postgresql:// URI, "
                f"got scheme {parts.scheme!r}"
            )
        return PostgresSettings(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "chiso"),
            password=unquote(parts.password or ""),
            dbname=parts.path.lstrip("/") or "chiso",
        )
    return PostgresSettings(
        host=os.environ.get("CHISO_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("CHISO_PG_PORT", 5432)),
        user=os.environ.get("CHISO_PG_USER", "chiso"),
        password=os.environ.get("CHISO_PG_PASSWORD", ""),
        dbname=os.environ.get("CHISO_PG_DBNAME", "chiso"),
    )


def _choice(
    name: str, default: str, allowed: tuple[str, ...], aliases: dict[str, str] | None = None
) -> str:
    value = os.environ.get(name, default).strip().lower()
    value = (aliases or {}).get(value, value)
    if value not in allowed:
        raise SettingsError(f"{name}={value!r}: use one of {', '.join(allowed)}")
    return value


def _positive(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name}={value!r}: give a whole number, 1 or more")
    return int(value)


def _memory(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value):
        raise SettingsError(f"{name}={value!r}: give a size with its unit, e.g. 4GB or 1500MiB")
    return value


def load_settings() -> Settings:
    """Read the settings from the environment (call again after changing it)."""
    data = _path("CHISO_DATA_DIR", PROJECT_ROOT / "data")
    provinces = _list("CHISO_PROVINCES", "20,08,14")
    if not provinces or not all(code.isdigit() and len(code) == 2 for code in provinces):
        raise SettingsError(
            f"CHISO_PROVINCES={os.environ.get('CHISO_PROVINCES')!r}: give two-digit province "
            "codes separated by commas, e.g. 20,08,14"
        )
    return Settings(
        data_dir=data,
        inbox_dir=_path("CHISO_INBOX_DIR", data / "inbox"),
        landing_dir=_path("CHISO_LANDING_DIR", data / "landing"),
        quarantine_dir=_path("CHISO_QUARANTINE_DIR", data / "quarantine"),
        warehouse_path=_path("CHISO_WAREHOUSE_PATH", data / "warehouse" / "chiso.duckdb"),
        published_path=_path("CHISO_PUBLISHED_PATH", data / "published" / "chiso.duckdb"),
        snapshot_dir=_path("CHISO_SNAPSHOT_DIR", data / "snapshots"),
        dbt_project_dir=dbt_project_dir(),
        portal_base_url=os.environ.get("CHISO_PORTAL_BASE_URL", "https://dichvucong.gov.vn"),
        timezone=timezone(),
        keep_versions=int(os.environ.get("CHISO_KEEP_VERSIONS", 5)),
        http_timeout=float(os.environ.get("CHISO_HTTP_TIMEOUT", 30)),
        http_attempts=int(os.environ.get("CHISO_HTTP_ATTEMPTS", 3)),
        http_backoff=float(os.environ.get("CHISO_HTTP_BACKOFF", 2)),
        http_min_interval=float(os.environ.get("CHISO_HTTP_MIN_INTERVAL", 1)),
        portal_apis=_list("CHISO_PORTAL_APIS", "new,old"),
        portal_sub_units=_list("CHISO_PORTAL_SUB_UNITS", "H37"),
        portal_page_size=int(os.environ.get("CHISO_PORTAL_PAGE_SIZE", 100)),
        data_docs=os.environ.get("CHISO_DATA_DOCS", "1") not in ("0", "false", "no"),
        max_file_bytes=int(os.environ.get("CHISO_MAX_FILE_BYTES", 20 * 1024 * 1024)),
        max_xlsx_expanded_bytes=int(
            os.environ.get("CHISO_MAX_XLSX_EXPANDED_BYTES", 200 * 1024 * 1024)
        ),
        warehouse=_choice("CHISO_WAREHOUSE", "duckdb", WAREHOUSES, {"postgresql": "postgres"}),
        provinces=provinces,
        postgres=_postgres(),
        alert_webhook=os.environ.get("CHISO_ALERT_WEBHOOK") or None,
        template_url=os.environ.get("CHISO_TEMPLATE_URL") or None,
        cosmos_mode=_choice("CHISO_COSMOS_MODE", "watcher", ("watcher", "runner", "subprocess")),
        ingest_workers=_positive("CHISO_INGEST_WORKERS", len(os.sched_getaffinity(0))),
        duckdb_memory_limit=_memory("CHISO_DUCKDB_MEMORY_LIMIT", "4GB"),
        fault_pause_before_replace=float(os.environ.get("CHISO_FAULT_PAUSE_BEFORE_REPLACE", 0)),
        verbose=verbose(),
        web_base_url=os.environ.get("CHISO_WEB_BASE_URL", "http://127.0.0.1:8090").rstrip("/"),
        web_secret=os.environ.get("CHISO_WEB_SECRET") or None,
        web_link_days=_positive("CHISO_WEB_LINK_DAYS", 120),
        web_uploads_per_hour=_positive("CHISO_WEB_UPLOADS_PER_HOUR", 12),
        superset_venv=_path("CHISO_SUPERSET_VENV", PROJECT_ROOT / ".venv-superset"),
        superset_url=os.environ.get("CHISO_SUPERSET_URL", "http://127.0.0.1:8088").rstrip("/"),
        superset_user=os.environ.get("CHISO_SUPERSET_USER") or "admin",
        superset_password=os.environ.get("CHISO_SUPERSET_PASSWORD") or None,
        bi_pg_user=os.environ.get("CHISO_BI_PG_USER") or "superset",
        bi_pg_password=os.environ.get("CHISO_BI_PG_PASSWORD") or None,
    )


def child_environment(**values: str) -> dict[str, str]:
    """The environment of a program chiso starts (Superset for ``chiso bi``): this
    process's, with ``values`` set, and ``PATH`` (when given) put before the current one."""
    env = dict(os.environ)
    if "PATH" in values:
        values = {**values, "PATH": os.pathsep.join([values["PATH"], env.get("PATH", "")])}
    return {**env, **values}


def export_warehouse_environment(settings: Settings) -> None:
    """dbt's profile (dbt_project/profiles.yml) and Great Expectations' connection string
    (``${CHISO_PG_PASSWORD}``) read the warehouse's connection from the environment: set it
    from these settings (which may come from an Airflow connection) in this process; and
    the provinces served and the time zone, which dbt reads through the macros
    ``served_provinces`` and ``local_date``."""
    os.environ["CHISO_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    os.environ["CHISO_DBT_TARGET"] = settings.warehouse
    os.environ["CHISO_PROVINCES"] = ",".join(settings.provinces)  # dbt's served provinces
    os.environ["CHISO_TIMEZONE"] = settings.timezone  # dbt's local_date
    os.environ["CHISO_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit  # dbt's profile
    if settings.warehouse == "postgres":
        os.environ.update(settings.postgres.environment())


def warehouse_connection_given() -> bool:
    """Whether the environment names the warehouse's Airflow connection itself."""
    return bool(os.environ.get(WAREHOUSE_CONNECTION_ENV))


def use_warehouse_connection(uri: str) -> None:
    """Make ``uri`` (the connection a task was handed by Airflow) this process's warehouse
    connection, read as if the deployment had set it; dbt and the gate's worker get it
    from :func:`export_warehouse_environment`."""
    os.environ[WAREHOUSE_CONNECTION_ENV] = uri


def export_as_of_period(as_of_period: str) -> None:
    """The month dbt's marts are as of ('' for the latest observed), read through the macro
    ``as_of_period``: set before each dbt invocation, so never left from an earlier one."""
    os.environ["CHISO_AS_OF_PERIOD"] = as_of_period


def quiet_great_expectations() -> None:
    """Before Great Expectations is imported: no usage reports (this machine has no network),
    and its INFO chatter ("Skipping registering function ...", logged while it imports)
    kept out of the run's output and task logs, unless CHISO_VERBOSE is set."""
    import logging

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    if not verbose():
        logging.getLogger("great_expectations").setLevel(logging.WARNING)


def verbose() -> bool:
    """CHISO_VERBOSE=1: dbt's console log and third-party libraries' logs (Great
    Expectations, cosmos) in the output and task logs. ``chiso run --verbose`` streams
    dbt's log for that run only (``Settings.verbose``)."""
    return os.environ.get("CHISO_VERBOSE", "0").strip().lower() in ("1", "true", "yes")


def fault_kill_point() -> str | None:
    """The named point a test asked this process to be killed at (CHISO_FAULT_KILL_AT): read
    here each time, so a test can set it in a child's environment."""
    return os.environ.get("CHISO_FAULT_KILL_AT") or None
