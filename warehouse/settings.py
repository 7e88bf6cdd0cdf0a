"""The one place chiso's settings come from.

Every value is read from an environment variable and has a local default, so a fresh
checkout runs with no configuration. All runtime data lives under one directory,
``CHISO_DATA_DIR`` (default: ``data/`` at the project root, ignored by git).

:data:`SETTINGS` is the table of every variable: its default, what it does, and how its
value is read and checked (a bad value is refused naming the variable). The loader, the
table below (appended when this module loads) and README's table (``python -m
warehouse.settings``, checked by a test) are all made from it: a default is written once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from warehouse.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TIMEZONE_DEFAULT = "Asia/Ho_Chi_Minh"


@lru_cache(maxsize=64)
def _resolved(value: str) -> Path:
    """A path setting made absolute, once per value: settings are read for every report
    file, and resolving is a system call per path component."""
    return Path(value).expanduser().resolve()


WAREHOUSES = ("duckdb", "postgres")
# the warehouse as an Airflow connection: its id, and the variable Airflow reads it from
WAREHOUSE_CONNECTION_ID = "chiso_warehouse"
WAREHOUSE_CONNECTION_ENV = "AIRFLOW_CONN_CHISO_WAREHOUSE"


class SettingsError(UsageError, ValueError):
    """A setting has a value chiso cannot use; the message names the variable."""


# -- reading one value: each takes the variable's name (for the message) and its text ------
Read = Callable[[str, str], object]


def _text(name: str, text: str) -> str:
    return text.strip()


def _optional(name: str, text: str) -> str | None:
    return text.strip() or None


def _secret(name: str, text: str) -> str:
    """A password or key, exactly as given (spaces are its own)."""
    return text


def _optional_secret(name: str, text: str) -> str | None:
    return text or None


def _path(name: str, text: str) -> Path:
    return _resolved(text.strip())


def _url(name: str, text: str) -> str:
    value = text.strip().rstrip("/")
    if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise SettingsError(f"{name}={text!r}: give an http:// or https:// address")
    return value


def _count(minimum: int, maximum: int | None = None) -> Read:
    def read(name: str, text: str) -> int:
        value = text.strip()
        if not value.isdigit() or int(value) < minimum or maximum and int(value) > maximum:
            bound = f"from {minimum} to {maximum}" if maximum else f"{minimum} or more"
            raise SettingsError(f"{name}={text!r}: give a whole number, {bound}")
        return int(value)

    return read


def _seconds(name: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not value >= 0:  # NaN too
        raise SettingsError(f"{name}={text!r}: give a number of seconds, 0 or more")
    return value


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={text!r}: give 1 (on) or 0 (off)")


def _items(name: str, text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _choice(*allowed: str, aliases: Mapping[str, str] | None = None) -> Read:
    def read(name: str, text: str) -> str:
        value = text.strip().lower()
        value = (aliases or {}).get(value, value)
        if value not in allowed:
            raise SettingsError(f"{name}={value!r}: use one of {', '.join(allowed)}")
        return value

    return read


MiB, GiB = 1 << 20, 1 << 30
_SIZE_UNITS = {
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4, "pb": 1000**5,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}  # fmt: skip


def parse_size(text: str) -> int | None:
    """Bytes from ``4GB``, ``1500MiB``, ``12 GiB`` (None when it is no size)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGTP]i?B)\s*", text, flags=re.I)
    if not match:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


CGROUP_MEMORY = Path("/sys/fs/cgroup/memory.max")  # a container's limit (cgroup v2)


def machine_memory(cgroup: Path = CGROUP_MEMORY) -> int:
    """The memory this process's machine has: the physical memory, or a container's
    limit when it is lower (docker compose's ``mem_limit``)."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = cgroup.read_text(encoding="utf-8").strip()  # "max" when unlimited
    except OSError:
        return physical
    return min(physical, int(limit)) if limit.isdigit() else physical


def _size(name: str, text: str) -> int:
    value = parse_size(text)
    if not value:
        raise SettingsError(f"{name}={text!r}: give a size with its unit, e.g. 12GiB or 1500MB")
    return value


def _zone(name: str, text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = text.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name}={value!r}: give an IANA time zone, e.g. {TIMEZONE_DEFAULT}"
        ) from None
    return value


def _provinces(name: str, text: str) -> tuple[str, ...]:
    codes = _items(name, text)
    if not codes or not all(code.isdigit() and len(code) == 2 for code in codes):
        raise SettingsError(
            f"{name}={text!r}: give two-digit province codes separated by commas, e.g. 20,08,14"
        )
    return codes


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default as it would be written there (``<project>``,
    ``<data>`` and ``<cores>`` stand for the project folder, the data directory and the
    machine's cores; empty is unset), what it does, how its value is read, and the
    :class:`Settings` field it fills (none: read where its help says)."""

    name: str
    default: str
    help: str
    read: Read = _text
    field: str | None = None

    def value(self, env: Mapping[str, str], data: Path | None = None) -> object:
        text = env.get(self.name, "")
        if not text.strip() and not (text and self.read in (_secret, _optional_secret)):
            text = self.default.replace("<project>", str(PROJECT_ROOT))
            if "<cores>" in text:
                text = text.replace("<cores>", str(len(os.sched_getaffinity(0))))
            if "<half the memory>" in text:
                text = text.replace("<half the memory>", f"{machine_memory() // 2 // MiB}MiB")
            if data is not None:
                text = text.replace("<data>", str(data))
        return self.read(self.name, text)

    def row(self) -> str:
        shown = f"`{self.default}`" if self.default else "unset"
        return f"| `{self.name}` | {shown} | {self.help} |"


S = Setting
SETTINGS: tuple[Setting, ...] = (
    S("CHISO_DATA_DIR", "<project>/data", "all runtime data", _path, "data_dir"),
    S("CHISO_INBOX_DIR", "<data>/inbox", "unit report files waiting", _path, "inbox_dir"),
    S("CHISO_LANDING_DIR", "<data>/landing", "every raw input, kept unchanged", _path,
      "landing_dir"),
    S("CHISO_QUARANTINE_DIR", "<data>/quarantine", "rejected files, each with its error "
      "report", _path, "quarantine_dir"),
    S("CHISO_WAREHOUSE_PATH", "<data>/warehouse/chiso.duckdb", "the work area (the pipeline "
      "only)", _path, "warehouse_path"),
    S("CHISO_PUBLISHED_PATH", "<data>/published/chiso.duckdb", "what BI tools read, replaced "
      "whole after each gate", _path, "published_path"),
    S("CHISO_SNAPSHOT_DIR", "<data>/snapshots", "the monthly snapshots", _path,
      "snapshot_dir"),
    S("CHISO_DBT_PROJECT_DIR", "<project>/dbt_project", "the dbt project", _path,
      "dbt_project_dir"),
    S("CHISO_WAREHOUSE", "duckdb", "`postgres` runs raw loads, dbt, the gate and publication "
      "on PostgreSQL", _choice(*WAREHOUSES, aliases={"postgresql": "postgres"}), "warehouse"),
    S("CHISO_PROVINCES", "20,08,14", "the provinces this instance serves (post-2025 codes, "
      "comma-separated): reports and templates per province", _provinces, "provinces"),
    S("CHISO_TIMEZONE", TIMEZONE_DEFAULT, "the zone chiso's months, due days and schedules "
      "are in", _zone, "timezone"),
    S("CHISO_PG_HOST", "127.0.0.1", "the PostgreSQL warehouse's host"),
    S("CHISO_PG_PORT", "5432", "its port", _count(1, 65535)),
    S("CHISO_PG_USER", "chiso", "its user"),
    S("CHISO_PG_PASSWORD", "", "its password", _secret),
    S("CHISO_PG_DBNAME", "chiso", "its database"),
    S(WAREHOUSE_CONNECTION_ENV, "", "under Airflow, the connection `chiso_warehouse` "
      "(`postgresql://user:pass@host:port/db`); wins over `CHISO_PG_*`; in a task without "
      "it, the connection is asked of Airflow (dags/chiso_common.py)", _optional),
    S("CHISO_KEEP_VERSIONS", "5", "earlier published versions kept for `chiso rollback`",
      _count(1), "keep_versions"),
    S("CHISO_PORTAL_BASE_URL", "https://dichvucong.gov.vn", "the public service portal",
      _url, "portal_base_url"),
    S("CHISO_PORTAL_APIS", "new,old", "the index-766 APIs fetched", _items, "portal_apis"),
    S("CHISO_PORTAL_SUB_UNITS", "H37", "portal codes of the provinces whose departments and "
      "communes are fetched", _items, "portal_sub_units"),
    S("CHISO_PORTAL_PAGE_SIZE", "100", "the old API's page size (pages fetched until a short "
      "one)", _count(1), "portal_page_size"),
    S("CHISO_HTTP_TIMEOUT", "30", "seconds an HTTP request may take", _seconds,
      "http_timeout"),
    S("CHISO_HTTP_ATTEMPTS", "3", "attempts per request", _count(1), "http_attempts"),
    S("CHISO_HTTP_BACKOFF", "2", "seconds before the first retry (doubling)", _seconds,
      "http_backoff"),
    S("CHISO_HTTP_MIN_INTERVAL", "1", "seconds between two requests to one host (polite)",
      _seconds, "http_min_interval"),
    S("CHISO_DATA_DOCS", "1", "write the Great Expectations Data Docs each run (`0` skips "
      "them)", _flag, "data_docs"),
    S("CHISO_MAX_FILE_BYTES", str(20 * MiB), "bytes (20 MiB): a larger report file is "
      "rejected (and refused at the door of the units' pages)", _count(1), "max_file_bytes"),
    S("CHISO_MAX_XLSX_EXPANDED_BYTES", str(200 * MiB), "bytes (200 MiB): an xlsx larger "
      "unpacked is rejected (zip bombs)", _count(1), "max_xlsx_expanded_bytes"),
    S("CHISO_INGEST_WORKERS", "<cores>", "processes that read and validate report files in "
      "parallel (`1`: in the run's own process; fewer than 32 files are always read there)",
      _count(1), "ingest_workers"),
    S("CHISO_MEMORY_BUDGET", "<half the memory>", "the memory a run may take (by default half "
      "the machine's, or of a container's limit): DuckDB gets 50 % "
      "of it (beyond, it spills beside the work warehouse), dbt builds two models at once "
      "only when both fit (warehouse/budget.py)", _size, "memory_budget"),
    S("CHISO_DISK_RESERVE", "2GiB", "free disk a run leaves for the rest of the machine: it "
      "refuses to start without room for its files, a candidate and DuckDB's spill beside it",
      _size, "disk_reserve"),
    S("CHISO_COSMOS_MODE", "watcher", "how the model-by-model DAG runs dbt (`runner`, "
      "`subprocess`)", _choice("watcher", "runner", "subprocess"), "cosmos_mode"),
    S("CHISO_ALERT_WEBHOOK", "", "a failed Airflow task POSTs a JSON summary there, and the "
      "reminders to report are POSTed there", _optional, "alert_webhook"),
    S("CHISO_TEMPLATE_URL", "", "where units download the report template, said in the "
      "reminders", _optional, "template_url"),
    S("CHISO_VERBOSE", "0", "`1`: dbt's and third-party logs in the output, not only in "
      "files", _flag, "verbose"),
    S("CHISO_WEB_BASE_URL", "http://127.0.0.1:8090", "where the units' links open (`chiso "
      "serve`; in production the API server's `/chiso`)", _url, "web_base_url"),
    S("CHISO_WEB_SECRET", "", "the key that signs the units' links; unset: a random key in "
      "`<data>/web/secret.key` (set it to share links across machines)", _optional_secret,
      "web_secret"),
    S("CHISO_WEB_LINK_DAYS", "120", "days a unit's link stays valid", _count(1),
      "web_link_days"),
    S("CHISO_WEB_UPLOADS_PER_HOUR", "12", "files a unit may send in an hour through its link",
      _count(1), "web_uploads_per_hour"),
    S("CHISO_SUPERSET_VENV", "<project>/.venv-superset", "Superset's own environment "
      "(`chiso bi setup`)", _path, "superset_venv"),
    S("CHISO_SUPERSET_URL", "http://127.0.0.1:8088", "where `chiso bi serve` listens and "
      "`chiso bi import` sends the dashboards", _url, "superset_url"),
    S("CHISO_SUPERSET_USER", "admin", "the Superset admin `chiso bi` imports as", _text,
      "superset_user"),
    S("CHISO_SUPERSET_PASSWORD", "", "its password; unset: the local Superset's, made once "
      "in `<data>/superset/admin.password`", _optional_secret, "superset_password"),
    S("CHISO_BI_PG_USER", "superset", "the login in role `chiso_reader` Superset reads "
      "schema `published` as (`CHISO_WAREHOUSE=postgres`)", _text, "bi_pg_user"),
    S("CHISO_BI_PG_PASSWORD", "", "its password", _optional_secret, "bi_pg_password"),
    S("CHISO_FAULT_KILL_AT", "", "tests: the named point a process is killed at",
      _optional),
    S("CHISO_FAULT_PAUSE_BEFORE_REPLACE", "0", "tests: seconds to pause before a publication "
      "replaces the last", _seconds, "fault_pause_before_replace"),
)  # fmt: skip
SETTING = {setting.name: setting for setting in SETTINGS}
# settings of earlier releases: set, they stop the run with the name of their successor
REPLACED = {"CHISO_DUCKDB_MEMORY_LIMIT": "CHISO_MEMORY_BUDGET"}


def _read(name: str, env: Mapping[str, str] | None = None) -> object:
    return SETTING[name].value(os.environ if env is None else env)


def settings_table() -> str:
    """Every setting as a Markdown table (README's, and this module's docstring)."""
    rows = [setting.row() for setting in SETTINGS]
    return "\n".join(["| variable | default | what it does |", "| --- | --- | --- |", *rows])


@dataclass(frozen=True)
class PostgresSettings:
    """Where the PostgreSQL warehouse is. The password never appears in a repr or a log."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str

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
    """The values of :data:`SETTINGS` (see each one's help); made by :func:`load_settings`."""

    data_dir: Path
    inbox_dir: Path
    landing_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    published_path: Path
    snapshot_dir: Path
    dbt_project_dir: Path
    warehouse: str
    provinces: tuple[str, ...]
    timezone: str
    postgres: PostgresSettings
    keep_versions: int
    portal_base_url: str
    portal_apis: tuple[str, ...]
    portal_sub_units: tuple[str, ...]
    portal_page_size: int
    http_timeout: float
    http_attempts: int
    http_backoff: float
    http_min_interval: float
    data_docs: bool
    max_file_bytes: int
    max_xlsx_expanded_bytes: int
    ingest_workers: int
    memory_budget: int  # bytes a run may take (warehouse/budget.py splits it)
    disk_reserve: int  # bytes of free disk a run leaves
    cosmos_mode: str
    alert_webhook: str | None
    template_url: str | None
    verbose: bool  # dbt's console log streamed (else only its log file)
    web_base_url: str
    web_secret: str | None
    web_link_days: int
    web_uploads_per_hour: int
    superset_venv: Path
    superset_url: str
    superset_user: str
    superset_password: str | None
    bi_pg_user: str
    bi_pg_password: str | None
    fault_pause_before_replace: float

    @property
    def warehouse_is_server(self) -> bool:
        """Whether the warehouse is a server reached through a connection (PostgreSQL),
        not a file on this machine (DuckDB)."""
        return self.warehouse == "postgres"

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
    def spill_dir(self) -> Path:
        """Where dbt's DuckDB spills beyond its share of the budget (warehouse/budget.py):
        DuckDB's own folder beside the work warehouse."""
        return self.warehouse_path.with_name(self.warehouse_path.name + ".tmp")

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
    return _read("CHISO_TIMEZONE")


def dbt_project_dir() -> Path:
    """Just the dbt project folder: read for every report file, so kept cheap."""
    return _read("CHISO_DBT_PROJECT_DIR")


def _postgres(env: Mapping[str, str]) -> PostgresSettings:
    """The connection ``chiso_warehouse`` as a URI in AIRFLOW_CONN_CHISO_WAREHOUSE (set by
    the deployment, or by :func:`use_warehouse_connection` in a task that asked Airflow for
    it), else CHISO_PG_*; what the URI leaves out, CHISO_PG_*'s defaults."""
    given = {
        part: SETTING[f"CHISO_PG_{part.upper()}"].value(env)
        for part in ("host", "port", "user", "password", "dbname")
    }
    uri = _read(WAREHOUSE_CONNECTION_ENV, env)
    if not uri:
        return PostgresSettings(**given)
    parts = urlsplit(uri)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SettingsError(
            f"{WAREHOUSE_CONNECTION_ENV} must be a postgresql:// URI, got scheme {parts.scheme!r}"
        )
    default = {part: SETTING[f"CHISO_PG_{part.upper()}"].value({}) for part in given}
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(f"{WAREHOUSE_CONNECTION_ENV}: its port is not a number") from None
    return PostgresSettings(
        host=parts.hostname or default["host"],
        port=port or default["port"],
        user=unquote(parts.username or default["user"]),
        password=unquote(parts.password or ""),
        dbname=parts.path.lstrip("/") or default["dbname"],
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (call again after changing it); a bad value
    is refused with a :class:`SettingsError` naming its variable."""
    env = os.environ if env is None else env
    for old, new in REPLACED.items():
        if env.get(old, "").strip():
            raise SettingsError(f"{old} is replaced by {new}: {SETTING[new].help}")
    data = SETTING["CHISO_DATA_DIR"].value(env)
    values = {setting.field: setting.value(env, data) for setting in SETTINGS if setting.field}
    return Settings(**values, postgres=_postgres(env))


def child_environment(**values: str) -> dict[str, str]:
    """The environment of a program chiso starts (Superset for ``chiso bi``): this
    process's, with ``values`` set, and ``PATH`` (when given) put before the current one."""
    env = dict(os.environ)
    if "PATH" in values:
        values = {**values, "PATH": os.pathsep.join([values["PATH"], env.get("PATH", "")])}
    return {**env, **values}


def dbt_environment(settings: Settings, as_of_period: str = "") -> dict[str, str]:
    """What dbt reads from the environment, from these settings (which may come from an
    Airflow connection): its profile's warehouse (dbt_project/profiles.yml), the provinces
    served and the time zone (macros ``served_provinces`` and ``local_date``), the month
    the marts are as of (macro ``as_of_period``; empty: the latest observed). DuckDB's
    share of the memory budget is added by each build (warehouse/budget.py)."""
    values = {
        "CHISO_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CHISO_DBT_TARGET": settings.warehouse,
        "CHISO_PROVINCES": ",".join(settings.provinces),
        "CHISO_TIMEZONE": settings.timezone,
        "CHISO_AS_OF_PERIOD": as_of_period,
    }
    if settings.warehouse_is_server:
        values.update(settings.postgres.environment())
    return values


@contextmanager
def environment_for(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment for the block only (dbt in-process, Great
    Expectations' ``${...}`` references): what was there before is put back after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def export_warehouse_environment(settings: Settings) -> None:
    """The environment dbt reads (:func:`dbt_environment`), set for the rest of this
    process: an Airflow task's, whose dbt cosmos runs in ways chiso does not call."""
    values = dbt_environment(settings)
    del values["CHISO_AS_OF_PERIOD"]  # each invocation sets its month
    os.environ.update(values)


def warehouse_connection_given() -> bool:
    """Whether the environment names the warehouse's Airflow connection itself."""
    return bool(os.environ.get(WAREHOUSE_CONNECTION_ENV))


def use_warehouse_connection(uri: str) -> None:
    """Make ``uri`` (the connection a task was handed by Airflow) this process's warehouse
    connection, read as if the deployment had set it (dbt and Great Expectations get it
    through :func:`dbt_environment`)."""
    os.environ[WAREHOUSE_CONNECTION_ENV] = uri


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
    return _read("CHISO_VERBOSE")


def fault_kill_point() -> str | None:
    """The named point a test asked this process to be killed at (CHISO_FAULT_KILL_AT): read
    here each time, so a test can set it in a child's environment."""
    return _read("CHISO_FAULT_KILL_AT")


if __doc__:  # None under python -OO
    __doc__ += "\n" + settings_table() + "\n"

if __name__ == "__main__":  # README's table: python -m warehouse.settings
    print(settings_table())
