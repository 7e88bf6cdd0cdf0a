#!/bin/sh
# warehouse-postgres's first start (docker-entrypoint-initdb.d): the login Superset reads
# schema `published` as, in the read-only role chiso_reader (which each publication grants
# SELECT on the marts). Nothing happens without SUPERSET_PG_PASSWORD.
set -eu
[ -n "${SUPERSET_PG_PASSWORD:-}" ] || exit 0
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v password="$SUPERSET_PG_PASSWORD" <<'SQL'
create role chiso_reader nologin;
create role superset login password :'password' in role chiso_reader;
SQL
