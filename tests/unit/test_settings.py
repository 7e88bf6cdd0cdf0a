"""The settings module: the one reader of the environment."""

from __future__ import annotations

import pytest

from warehouse.settings import SettingsError, load_settings


@pytest.fixture
def clean(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("CHISO_") or name == "AIRFLOW_CONN_CHISO_WAREHOUSE":
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_defaults_are_the_embedded_warehouse_and_the_three_seed_provinces(clean):
    settings = load_settings()
    assert (settings.warehouse, settings.provinces) == ("duckdb", ("20", "08", "14"))
    assert settings.dbt_target_dir.name == "target"
    assert settings.cosmos_mode == "watcher" and settings.alert_webhook is None


def test_the_warehouse_and_the_provinces_are_settings(clean):
    clean.setenv("CHISO_WAREHOUSE", "PostgreSQL")  # any case; postgresql = postgres
    clean.setenv("CHISO_PROVINCES", "08, 20,14")
    settings = load_settings()
    assert settings.warehouse == "postgres" and settings.dbt_target_dir.name == "target-postgres"
    assert settings.provinces == ("08", "20", "14")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHISO_WAREHOUSE", "sqlite", "CHISO_WAREHOUSE='sqlite': use one of duckdb, postgres"),
        ("CHISO_PROVINCES", "Lạng Sơn", "give two-digit province codes"),
        ("CHISO_COSMOS_MODE", "fast", "CHISO_COSMOS_MODE='fast'"),
        ("CHISO_DUCKDB_MEMORY_LIMIT", "lots", "give a size with its unit, e.g. 4GB"),
        ("AIRFLOW_CONN_CHISO_WAREHOUSE", "mysql://u:p@h/db", "must be a postgresql:// URI"),
    ],
)
def test_a_setting_chiso_cannot_use_is_named(clean, name, value, message):
    clean.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_postgresql_from_the_environment_or_an_airflow_connection(clean):
    clean.setenv("CHISO_PG_HOST", "db.internal")
    clean.setenv("CHISO_PG_PASSWORD", "s3cret-from-env")
    pg = load_settings().postgres
    assert (pg.host, pg.port, pg.user, pg.dbname) == ("db.internal", 5432, "chiso", "chiso")
    assert "s3cret-from-env" not in repr(load_settings())

    # under Airflow, the connection chiso_warehouse (AIRFLOW_CONN_<ID>) wins
    clean.setenv("AIRFLOW_CONN_CHISO_WAREHOUSE", "postgresql://bi%40x:p%2Fss@pg.prod:6432/marts")
    pg = load_settings().postgres
    assert (pg.host, pg.port, pg.user, pg.password, pg.dbname) == (
        "pg.prod",
        6432,
        "bi@x",
        "p/ss",
        "marts",
    )
    assert "p/ss" not in repr(pg) and pg.environment()["CHISO_PG_PASSWORD"] == "p/ss"


def test_the_cli_names_a_bad_setting_instead_of_a_traceback(clean, capsys):
    from chiso.cli import main

    clean.setenv("CHISO_WAREHOUSE", "oracle")
    assert main(["status"]) == 2
    assert "CHISO_WAREHOUSE='oracle'" in capsys.readouterr().err


def test_great_expectations_gets_the_password_from_the_environment_not_its_config(clean):
    import os

    from warehouse.backends import open_warehouse

    clean.setenv("CHISO_WAREHOUSE", "postgres")
    clean.setenv("AIRFLOW_CONN_CHISO_WAREHOUSE", "postgresql://chiso:s3cret@pg.prod:6432/marts")
    for name in ("HOST", "PORT", "USER", "PASSWORD", "DBNAME"):  # undone after the test
        clean.setenv(f"CHISO_PG_{name}", "")
    clean.setenv("CHISO_DBT_TARGET", "")
    clean.setenv("CHISO_WAREHOUSE_PATH", "")
    url = open_warehouse(load_settings()).gx_connection_string()
    assert url == "postgresql+psycopg2://chiso:${CHISO_PG_PASSWORD}@pg.prod:6432/marts"
    assert os.environ["CHISO_PG_PASSWORD"] == "s3cret"  # what GX substitutes
