"""The foundation every layer stands on: settings (the one reader of the environment),
periods, bilingual messages, the warehouse backends (DuckDB, PostgreSQL), raw-schema DDL,
the dbt build, lock and faults, snapshots and exports, the report. It imports nothing of
chiso's other packages."""
