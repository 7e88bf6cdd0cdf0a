"""Apache Superset beside chiso, with chiso's dashboards (``chiso bi``).

Superset lives in an environment of its own (``CHISO_SUPERSET_VENV``, default
``.venv-superset``): it pins SQLAlchemy < 2, pandas < 2.2 and its own Flask, which Airflow
cannot share. Its metadata (SQLite), secret key and admin password live in
``<data>/superset/``. The dashboards are code, in Superset's own export format, in
``bi/superset/assets/``: one database (the published marts), virtual datasets over the
marts, charts with their query context, dashboards with native filters. They are imported
through Superset's REST API (``POST /api/v1/assets/import/``), which overwrites every
asset by its uuid: importing again puts the code's version back. The database is written
at import time: the published DuckDB file opened read-only, or the PostgreSQL warehouse's
schema ``published`` as a login in the role ``chiso_reader``; its password travels in the
import request and is stored encrypted by Superset, never in a file of the project.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from chiso.processes import stop_group
from warehouse.errors import ChisoError
from warehouse.settings import PROJECT_ROOT, Settings, child_environment

BI_DIR = PROJECT_ROOT / "bi" / "superset"
ASSETS_DIR = BI_DIR / "assets"
START_SECONDS = 180  # Superset's first start builds its caches: about 10 s here
MASKED = "XXXXXXXXXX"  # a password in Superset's export format


class BIError(ChisoError):
    """Superset could not be installed, started or given the dashboards: said with what to
    do (the data engineers read it)."""


Log = Callable[[str], None]


def home(settings: Settings) -> Path:
    """Superset's files for this data directory: metadata, secret key, admin password."""
    return settings.data_dir / "superset"


def install(settings: Settings, log: Log = print) -> Path:
    """Superset's environment from bi/superset/requirements.txt and constraints.txt; skipped
    when those have not changed since the last install. Returns the environment."""
    venv = settings.superset_venv
    python = venv / "bin" / "python"
    stamp_file = venv / ".chiso-stamp"
    stamp = sha256(
        (BI_DIR / "requirements.txt").read_bytes() + (BI_DIR / "constraints.txt").read_bytes()
    ).hexdigest()
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv
    if not python.exists():
        log(f"creating Superset's environment {venv} (its own: it cannot share chiso's)")
        _checked([sys.executable, "-m", "venv", str(venv)], "creating Superset's environment")
    log("installing Apache Superset 6.1 and the DuckDB and PostgreSQL drivers (a minute or two)")
    pins = ["-r", str(BI_DIR / "requirements.txt"), "-c", str(BI_DIR / "constraints.txt")]
    # uv (chiso's dev extra, which ./setup.sh installs) downloads in parallel and keeps a
    # cache; pip where chiso was installed without it
    uv = Path(sys.executable).with_name("uv")
    installer = (
        [str(uv), "pip", "install", "--quiet", "--python", str(python)]
        if uv.exists()
        else [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    )
    _checked([*installer, *pins], "installing Superset")
    _checked([str(python), "-m", "pip", "check"], "checking Superset's environment")
    stamp_file.write_text(stamp)
    return venv


def environment(settings: Settings) -> dict[str, str]:
    """The environment Superset's commands run with (bi/superset/superset_config.py reads
    it): the secret key and admin password made once, mode 600."""
    folder = home(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return child_environment(
        PATH=str(settings.superset_venv / "bin"),
        SUPERSET_CONFIG_PATH=str(BI_DIR / "superset_config.py"),
        SUPERSET_SECRET_KEY=_kept_secret(folder / "secret.key"),
        SUPERSET_METADATA_URI=f"sqlite:///{folder / 'superset.db'}",
        FLASK_APP="superset",
        PYTHONUNBUFFERED="1",
    )


def admin_password(settings: Settings) -> str:
    """CHISO_SUPERSET_PASSWORD, or the local Superset's, made on first use."""
    if settings.superset_password:
        return settings.superset_password
    return _kept_secret(home(settings) / "admin.password")


def initialise(settings: Settings, log: Log = print) -> None:
    """Superset's metadata database, roles and permissions, and its admin (once)."""
    env = environment(settings)
    superset = str(settings.superset_venv / "bin" / "superset")
    log("preparing Superset's metadata (superset db upgrade, init)")
    _checked([superset, "db", "upgrade"], "superset db upgrade", env=env)
    made = home(settings) / "admin.created"
    if not made.exists():
        _checked(
            [superset, "fab", "create-admin", "--username", settings.superset_user,
             "--firstname", "chiso", "--lastname", "admin", "--email", "chiso@localhost",
             "--password", admin_password(settings)],
            "creating Superset's admin", env=env,
        )  # fmt: skip
        made.write_text(settings.superset_user)
    _checked([superset, "init"], "superset init", env=env)


def database(settings: Settings) -> tuple[dict, dict[str, str]]:
    """The database entry of the published marts (its sqlalchemy_uri and extra) and the
    passwords to send beside it, for the warehouse this instance runs on: Superset stores
    a password encrypted, and its export format writes it masked."""
    from warehouse.backends import open_warehouse

    uri, engine_params = open_warehouse(settings).reader_uri(settings.bi_pg_user)
    passwords = {"databases/chiso.yaml": settings.bi_pg_password or ""}
    entry = {
        "sqlalchemy_uri": uri.replace("{password}", MASKED),
        "extra": {"engine_params": engine_params},
    }
    return entry, passwords if "{password}" in uri else {}


def bundle(settings: Settings) -> tuple[bytes, dict[str, str]]:
    """The assets as the zip Superset imports, the database pointed at this instance's
    published marts; and the passwords that go with it."""
    entry, passwords = database(settings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(ASSETS_DIR.rglob("*.yaml")):
            name = path.relative_to(ASSETS_DIR).as_posix()
            text = path.read_text(encoding="utf-8")
            if name.startswith("databases/"):
                config = yaml.safe_load(text)
                config["sqlalchemy_uri"] = entry["sqlalchemy_uri"]
                config["extra"] = {**config.get("extra", {}), **entry["extra"]}
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            elif name.startswith("dashboards/"):
                config = yaml.safe_load(text)
                for native in config.get("metadata", {}).get("native_filter_configuration", []):
                    # an export names the charts a filter reaches by the exporting instance's
                    # ids, which the import does not map: without them, a filter reaches
                    # every chart in its scope
                    native.pop("chartsInScope", None)
                    native.pop("tabsInScope", None)
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            archive.writestr(f"chiso/{name}", text)
    return buffer.getvalue(), passwords


def asset_uuids(kind: str) -> dict[str, str]:
    """uuid -> title of the code's charts or dashboards (kind: charts, dashboards)."""
    field = {"charts": "slice_name", "dashboards": "dashboard_title"}[kind]
    out = {}
    for path in sorted((ASSETS_DIR / kind).glob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[config["uuid"]] = config[field]
    return out


class Superset:
    """Superset's REST API as one user: a JWT to authenticate, the CSRF token and its
    session cookie for each POST."""

    def __init__(self, url: str, user: str, password: str, timeout: float = 120):
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout)
        try:
            response = self.http.post(
                "/api/v1/security/login",
                json={"username": user, "password": password, "provider": "db"},
            )
        except httpx.HTTPError as error:
            self.http.close()
            raise BIError(
                f"Superset at {self.url} does not answer ({error}): start it (chiso bi serve) "
                "or set CHISO_SUPERSET_URL to where it runs"
            ) from None
        if response.status_code != 200:
            self.http.close()
            raise BIError(
                f"Superset at {self.url} refused the login of {user!r} "
                f"(HTTP {response.status_code}): set CHISO_SUPERSET_USER and "
                "CHISO_SUPERSET_PASSWORD to an admin's"
            )
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        csrf = self.get("/api/v1/security/csrf_token/")["result"]
        self.http.headers.update({"X-CSRFToken": csrf, "Referer": self.url})

    def close(self) -> None:
        self.http.close()

    def get(self, path: str) -> dict:
        response = self.http.get(path)
        if response.status_code != 200:
            raise BIError(f"Superset: GET {path} answered HTTP {response.status_code}: "
                          f"{response.text[:500]}")  # fmt: skip
        return response.json()

    def listed(self, kind: str) -> list[dict]:
        """Every chart, dataset or dashboard Superset holds (kind: chart, dataset, ...)."""
        rows, page = [], 0
        while True:
            query = f"(page:{page},page_size:100)"
            result = self.get(f"/api/v1/{kind}/?q={query}")["result"]
            rows += result
            if len(result) < 100:
                return rows
            page += 1

    def import_assets(self, archive: bytes, passwords: dict[str, str]) -> None:
        response = self.http.post(
            "/api/v1/assets/import/",
            files={"bundle": ("chiso.zip", archive, "application/zip")},
            data={"passwords": json.dumps(passwords)},
        )
        if response.status_code != 200:
            raise BIError(
                f"Superset refused chiso's dashboards (HTTP {response.status_code}): "
                f"{response.text[:1500]}"
            )

    def chart_data(self, chart_id: int) -> list[dict]:
        """The rows of a chart's saved query (its query context), as Superset serves them."""
        return self.get(f"/api/v1/chart/{chart_id}/data/")["result"][0]["data"]


@dataclass(frozen=True)
class Imported:
    url: str
    charts: dict[str, int]  # uuid -> id in Superset
    dashboards: dict[str, str]  # slug -> url

    def __str__(self) -> str:
        lines = [f"{len(self.charts)} charts in {len(self.dashboards)} dashboards imported:"]
        lines += [f"  {url}" for url in self.dashboards.values()]
        return "\n".join(lines)


def import_dashboards(settings: Settings, url: str | None = None) -> Imported:
    """Import the dashboards into the Superset at ``url`` (CHISO_SUPERSET_URL), overwriting
    earlier versions; every chart and dashboard of the code must be there after it."""
    url = (url or settings.superset_url).rstrip("/")
    with closing(Superset(url, settings.superset_user, admin_password(settings))) as client:
        client.import_assets(*bundle(settings))
        held = {row["uuid"]: row for row in client.listed("chart") if row.get("uuid")}
        wanted = asset_uuids("charts")
        missing = [title for uuid, title in wanted.items() if uuid not in held]
        if missing:  # Superset skips a chart whose dataset it could not import, silently
            raise BIError(f"Superset did not keep these charts of chiso's: {', '.join(missing)}")
        boards = {row["uuid"]: row for row in client.listed("dashboard") if row.get("uuid")}
        absent = [title for uuid, title in asset_uuids("dashboards").items() if uuid not in boards]
        if absent:
            raise BIError(f"Superset did not keep these dashboards: {', '.join(absent)}")
        return Imported(
            url,
            {uuid: held[uuid]["id"] for uuid in wanted},
            {
                boards[uuid]["slug"]: f"{url}/superset/dashboard/{boards[uuid]['slug']}/"
                for uuid in asset_uuids("dashboards")
            },
        )


@contextmanager
def running(settings: Settings, port: int, log: Log = print) -> Iterator[subprocess.Popen]:
    """Superset's web server on 127.0.0.1:port until the block ends; its log in
    <data>/superset/superset.log."""
    superset = str(settings.superset_venv / "bin" / "superset")
    if not Path(superset).exists():
        raise BIError("Superset is not installed: run chiso bi setup (or ./setup.sh bi) first")
    log_path = home(settings) / "superset.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [superset, "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
            env=environment(settings), stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, log_path)
        yield process
    finally:
        stop_group(process, grace=20)


def setup(settings: Settings, log: Log = print) -> Imported:
    """Install, initialise, and import the dashboards through a Superset started for it."""
    install(settings, log)
    initialise(settings, log)
    port = _free_port()
    with running(settings, port, log):
        log("importing chiso's dashboards")
        imported = import_dashboards(settings, f"http://127.0.0.1:{port}")
    url = settings.superset_url  # where chiso bi serve will show them
    return replace(imported, url=url, dashboards={
        slug: f"{url}/superset/dashboard/{slug}/" for slug in imported.dashboards
    })  # fmt: skip


def serve(settings: Settings, log: Log = print) -> int:
    """Superset on CHISO_SUPERSET_URL's port with the code's dashboards, until stopped."""
    port = urlsplit(settings.superset_url).port or 8088
    initialise(settings, lambda line: None)
    # stopped by a service manager (SIGTERM): leave through the block below, which stops
    # Superset too (it runs in a process group of its own)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    with running(settings, port, log) as process:
        log(str(import_dashboards(settings, f"http://127.0.0.1:{port}")))
        log(f"Superset: {settings.superset_url} (user {settings.superset_user}, password in "
            f"{home(settings) / 'admin.password'} unless CHISO_SUPERSET_PASSWORD is set); "
            "Ctrl-C stops it")  # fmt: skip
        try:
            return process.wait()
        except KeyboardInterrupt:
            return 0


def _wait_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BIError(f"Superset stopped while starting; see {log_path}:\n{_tail(log_path)}")
        try:
            if httpx.get(f"{url}/health", timeout=2).text.strip() == "OK":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise BIError(f"Superset did not answer on {url}/health within {START_SECONDS} s; "
                  f"see {log_path}")  # fmt: skip


def _checked(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
        detail = "\n".join(lines[-25:])
        raise BIError(f"{what} failed (exit {out.returncode}):\n{detail}")


def _kept_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
