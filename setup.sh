#!/usr/bin/env bash
# chiso: set up everything on a fresh Debian/Ubuntu machine, then run the main job or the tests.
#
#   ./setup.sh run    set up, then run the main job on the embedded sample data
#                     (sample report files -> landing -> DuckDB -> dbt -> gate -> published file)
#                     CHISO_WAREHOUSE=postgres ./setup.sh run: the same on PostgreSQL (a local
#                     server of its own in <data>/postgres unless CHISO_PG_HOST names one)
#   ./setup.sh test   set up, then run every check and test (ruff, sqlfluff, pytest)
#   ./setup.sh bi     set up, then Apache Superset in its own environment (.venv-superset) with
#                     chiso's dashboards over the published marts; start it: chiso bi serve
#   ./setup.sh        set up only
#
# Setting up = Debian packages if missing (apt-get), a virtual environment in .venv with the
# exact versions of constraints.txt, and chiso installed into it. It is idempotent and skips
# the install when constraints.txt and pyproject.toml have not changed.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

say() { printf '\n==> %s\n' "$*"; }

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian packages: $*"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

setup() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        apt_install python3 python3-venv python3-pip
    fi
    # the PostgreSQL server: the tests build the dbt models on a throwaway local cluster
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt_install postgresql
    fi
    # Redis: the Celery broker of the scale-out topology (docker-compose.yml), for running it natively
    if ! command -v redis-server >/dev/null 2>&1; then
        apt_install redis-server
    fi
    # headless Chromium: the monthly report's PDF, and the test that renders its charts
    if ! command -v chromium >/dev/null 2>&1; then
        apt_install chromium
    fi
    "$PYTHON" - <<'PY' || { echo "chiso needs Python 3.11 or newer (set PYTHON=python3.12 to choose one)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            apt_install python3-venv
        fi
        say "creating $VENV with $("$PYTHON" --version)"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp
    stamp=$(cat constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$VENV/.setup-stamp" 2>/dev/null)" != "$stamp" ]; then
        say "installing chiso and its pinned dependencies into $VENV (a minute or two the first time)"
        # uv (pinned in constraints.txt) downloads and installs in parallel, and keeps what it
        # downloaded (~/.cache/uv) for the next install: about 10 s into a fresh clone here
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
        "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" \
            -c constraints.txt -e ".[dev,postgres,celery]"
        "$VENV/bin/python" -m pip check
        echo "$stamp" > "$VENV/.setup-stamp"
    fi
}

run_tests() {
    export PATH="$PWD/$VENV/bin:$PATH"
    say "ruff (lint + format, AIR rules on dags/)"
    ruff check .
    ruff format --check .
    say "sqlfluff (dbt models)"
    (cd dbt_project && CHISO_WAREHOUSE_PATH="$(mktemp -d)/lint.duckdb" sqlfluff lint models)
    # one worker per core; each test module stays on one worker (tests/conftest.py), so its
    # expensive fixtures are made once
    say "pytest (${CHISO_TEST_WORKERS:-2} workers)"
    pytest -n "${CHISO_TEST_WORKERS:-2}" --dist loadscope --max-worker-restart 0 "$@"
}

setup
case "${1:-}" in
    run)  shift; export PATH="$PWD/$VENV/bin:$PATH"
          if [ "${CHISO_WAREHOUSE:-duckdb}" = postgres ] && [ -z "${CHISO_PG_HOST:-}" ]; then
              export CHISO_PG_PORT="${CHISO_PG_PORT:-5433}"
              say "starting a local PostgreSQL server (stop it: python -m chiso.local_postgres stop)"
              pg_settings=$(python -m chiso.local_postgres start) || exit 1
              eval "$pg_settings"
          fi
          chiso demo "$@" ;;
    test) shift; run_tests "$@" ;;
    bi)   shift; "$VENV/bin/chiso" bi setup "$@" ;;
    "")   say "set up; activate with: source $VENV/bin/activate" ;;
    *)    echo "usage: ./setup.sh [run|test|bi]" >&2; exit 2 ;;
esac
