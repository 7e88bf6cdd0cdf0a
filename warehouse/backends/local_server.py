"""A PostgreSQL server of your own on this machine, to try the PostgreSQL warehouse.

``CHISO_WAREHOUSE=postgres ./setup.sh run`` uses it when no server is configured
(``CHISO_PG_HOST`` unset): a cluster in ``<data>/postgres`` listening on 127.0.0.1 only,
port ``CHISO_PG_PORT`` (default 5433, beside a system server on 5432), trust
authentication for local connections, one database ``chiso``. It keeps running after the
job, so BI tools can read it; ``python -m chiso.local_postgres stop`` stops it (the command,
chiso/local_postgres.py, calls :func:`main` here). The tests
start throwaway clusters the same way. The server binaries come from Debian's
``postgresql`` package, which ./setup.sh installs.

    python -m chiso.local_postgres start   # prints the CHISO_PG_* settings as shell exports
    python -m chiso.local_postgres stop
"""

from __future__ import annotations

import glob
import os
import pwd
import subprocess
from pathlib import Path

from warehouse.errors import ChisoError

USER, DATABASE = "chiso", "chiso"


class LocalServerError(ChisoError):
    pass


def cluster_folder(data_dir: Path) -> Path:
    """Where the local server keeps its cluster: ``<data>/postgres``."""
    return data_dir / "postgres"


def server_bin() -> str | None:
    """The newest installed server's bin folder (``/usr/lib/postgresql/<n>/bin``)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_server_user(command: list[str], folder: Path) -> subprocess.CompletedProcess:
    """Run a server command; as root, as the ``postgres`` system user (initdb refuses root)."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        reach = subprocess.run(["su", "postgres", "-c", f"test -w {folder}"], capture_output=True)
        if reach.returncode != 0:
            raise LocalServerError(
                f"the postgres system user cannot reach {folder} (a parent folder is private, "
                "as /root is): set CHISO_DATA_DIR to a folder it can reach, e.g. /srv/chiso/data"
            )
        command = ["su", "postgres", "-c", " ".join(command)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise LocalServerError(f"{command[-1][:200]} failed: {(out.stderr or out.stdout)[-1000:]}")
    return out


def _settings(port: int) -> dict[str, str]:
    return {
        "CHISO_PG_HOST": "127.0.0.1",
        "CHISO_PG_PORT": str(port),
        "CHISO_PG_USER": USER,
        "CHISO_PG_PASSWORD": "",
        "CHISO_PG_DBNAME": DATABASE,
    }


def is_running(folder: Path) -> bool:
    bindir = server_bin()
    if bindir is None or not (folder / "data" / "postmaster.pid").exists():
        return False
    status = subprocess.run(
        ["su", "postgres", "-c", f"{bindir}/pg_ctl -D {folder / 'data'} status"]
        if os.geteuid() == 0
        else [f"{bindir}/pg_ctl", "-D", str(folder / "data"), "status"],
        capture_output=True,
    )
    return status.returncode == 0


def start(folder: Path, port: int, durable: bool = True) -> dict[str, str]:
    """Start (creating it the first time) the cluster in ``folder``; return its settings.
    ``durable=False`` (tests) skips fsync: faster, and a power cut may lose the cluster."""
    bindir = server_bin()
    if bindir is None:
        raise LocalServerError(
            "PostgreSQL server binaries not found in /usr/lib/postgresql: run ./setup.sh "
            "(it installs Debian's postgresql package)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    if is_running(folder):
        return _settings(int((data / "postmaster.pid").read_text().splitlines()[3]))
    if not data.exists():
        _as_server_user(
            [f"{bindir}/initdb", "-D", str(data), "--auth=trust", "-U", USER, "-E", "UTF8"],
            folder,
        )
    fsync = "" if durable else " -c fsync=off"
    options = f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1{fsync}'"
    log = folder / "server.log"
    _as_server_user(
        [f"{bindir}/pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
        folder,
    )
    created = subprocess.run(
        [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
        capture_output=True,
        text=True,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise LocalServerError(f"createdb failed: {created.stderr[-500:]}")
    return _settings(port)


def stop(folder: Path, fast: bool = False) -> None:
    bindir = server_bin()
    if bindir and (folder / "data" / "postmaster.pid").exists():
        mode = "immediate" if fast else "fast"
        _as_server_user(
            [f"{bindir}/pg_ctl", "-D", str(folder / "data"), "-m", mode, "-w", "stop"], folder
        )
