"""``python -m chiso.local_postgres start|stop``: a PostgreSQL server of your own on this
machine, to try the PostgreSQL warehouse (warehouse/backends/local_server.py)."""

from __future__ import annotations

import sys

from warehouse.backends.local_server import LocalServerError, cluster_folder, start, stop
from warehouse.settings import load_settings


def main(argv: list[str]) -> int:
    settings = load_settings()
    folder = cluster_folder(settings.data_dir)
    if argv[:1] == ["start"]:
        port = settings.postgres.port  # ./setup.sh makes it 5433 unless CHISO_PG_PORT is set
        for name, value in start(folder, port).items():
            print(f"export {name}={value}")
        print(f"local PostgreSQL on 127.0.0.1:{port}, data in {folder}", file=sys.stderr)
        return 0
    if argv[:1] == ["stop"]:
        stop(folder)
        print(f"stopped the local PostgreSQL in {folder}", file=sys.stderr)
        return 0
    print("usage: python -m chiso.local_postgres start|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except LocalServerError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
