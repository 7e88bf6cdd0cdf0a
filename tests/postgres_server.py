"""A throwaway PostgreSQL server for tests: its own cluster in a temporary folder, trust
authentication on 127.0.0.1, a free port; stopped and removed afterwards. The server
binaries come from Debian's postgresql package (./setup.sh installs it)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def server_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_server(user: str = "chiso", dbname: str = "chiso") -> Iterator[dict[str, str]]:
    """Yield the CHISO_PG_* settings of a fresh server with one database."""
    bindir = server_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found: run ./setup.sh")
    folder = tempfile.mkdtemp(prefix="chiso-pg-")
    data, port = os.path.join(folder, "data"), _free_port()

    def as_server_user(command: list[str]) -> None:
        if os.geteuid() == 0:  # initdb refuses root: run as the postgres system user
            command = ["su", "postgres", "-c", " ".join(command)]
        subprocess.run(command, check=True, capture_output=True, text=True)

    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    try:
        as_server_user([f"{bindir}/initdb", "-D", data, "--auth=trust", "-U", user, "-E", "UTF8"])
        options = f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off'"
        log = os.path.join(folder, "server.log")
        as_server_user([f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"])
        subprocess.run(
            [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, dbname],
            check=True,
            capture_output=True,
        )
        yield {
            "CHISO_PG_HOST": "127.0.0.1",
            "CHISO_PG_PORT": str(port),
            "CHISO_PG_USER": user,
            "CHISO_PG_PASSWORD": "",
            "CHISO_PG_DBNAME": dbname,
        }
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            as_server_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
