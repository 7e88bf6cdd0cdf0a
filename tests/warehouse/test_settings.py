"""The settings module: the one reader of the environment."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from warehouse.settings import SettingsError, dbt_environment, environment_for, load_settings


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
        ("CHISO_MEMORY_BUDGET", "lots", "CHISO_MEMORY_BUDGET='lots': give a size with its unit"),
        ("CHISO_DISK_RESERVE", "0GB", "give a size with its unit, e.g. 12GiB"),
        ("CHISO_DUCKDB_MEMORY_LIMIT", "4GB", "replaced by CHISO_MEMORY_BUDGET: the memory a run"),
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
    backend = open_warehouse(load_settings())
    url = backend.gx_connection_string()
    assert url == "postgresql+psycopg2://chiso:${CHISO_PG_PASSWORD}@pg.prod:6432/marts"
    assert os.environ["CHISO_PG_PASSWORD"] == ""  # nothing is left in the environment
    with environment_for(backend.gx_environment()):
        assert os.environ["CHISO_PG_PASSWORD"] == "s3cret"  # what GX substitutes
    assert os.environ["CHISO_PG_PASSWORD"] == ""


def test_dbt_gets_its_environment_for_the_invocation_only(clean, tmp_path):
    """A run's dbt reads the warehouse, the provinces, the time zone and the month from the
    environment while it runs; after it, the environment is as it was."""
    clean.setenv("CHISO_DATA_DIR", str(tmp_path))
    clean.setenv("CHISO_PROVINCES", "08")
    values = dbt_environment(load_settings(), "2025-09")
    assert values["CHISO_PROVINCES"] == "08" and values["CHISO_AS_OF_PERIOD"] == "2025-09"
    assert values["CHISO_WAREHOUSE_PATH"] == str(tmp_path / "warehouse" / "chiso.duckdb")
    assert "CHISO_PG_PASSWORD" not in values  # DuckDB: no server
    before = dict(os.environ)
    with environment_for(values):
        assert os.environ["CHISO_AS_OF_PERIOD"] == "2025-09"
    assert dict(os.environ) == before


# -- the table of settings: one default per setting, written once -------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_every_field_of_the_settings_is_filled_by_exactly_one_variable():
    import dataclasses

    from warehouse.settings import SETTINGS, Settings

    filled = [setting.field for setting in SETTINGS if setting.field]
    assert len(filled) == len(set(filled))
    fields = {f.name for f in dataclasses.fields(Settings)} - {"postgres"}
    assert set(filled) == fields
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(Settings))


def test_readmes_table_is_the_settings_table():
    from warehouse.settings import settings_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- settings: python -m warehouse.settings -->\n")[1]
    assert block.split("<!-- /settings -->")[0].strip() == settings_table(), (
        "README's settings table is out of date: paste the output of python -m warehouse.settings"
    )


def _defaults_written_elsewhere() -> list[tuple[str, str, str]]:
    """(where, variable, default) of every default a file outside the settings module
    writes: docker compose's ${CHISO_X:-default}, dbt's env_var('CHISO_X', 'default')."""
    found = []
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for name, value in re.findall(r"\$\{(CHISO_[A-Z_]+):-([^}]*)\}", compose):
        found.append(("docker-compose.yml", name, value))
    for path in [ROOT / "dbt_project" / "profiles.yml", *(ROOT / "dbt_project").rglob("*.sql")]:
        text = path.read_text(encoding="utf-8")
        for name, value in re.findall(
            r"env_var\(\s*['\"](CHISO_[A-Z_]+)['\"]\s*,\s*['\"]([^'\"]*)", text
        ):
            found.append((str(path.relative_to(ROOT)), name, value))
    return found


# what the production topology deliberately runs with, unlike a checkout
DEPLOYMENT_CHOICES = {
    ("docker-compose.yml", "CHISO_WAREHOUSE"): "postgres",  # no task shares a DuckDB file
    ("docker-compose.yml", "CHISO_WEB_BASE_URL"): "http://localhost:8080/chiso",  # API server
}


def test_a_default_written_outside_the_table_is_the_tables():
    from warehouse.settings import SETTING

    written = _defaults_written_elsewhere()
    assert len(written) >= 8  # the scan finds them
    wrong = []
    for where, name, value in written:
        if DEPLOYMENT_CHOICES.get((where, name)) == value or name not in SETTING:
            continue  # CHISO_AS_OF_PERIOD, CHISO_DBT_TARGET: set by each run for dbt
        default = SETTING[name].default
        if "<" in default:  # a path: dbt's is relative to its project folder
            default = default.replace("<project>", "..").replace("<data>", "../data")
        if value != default:
            wrong.append(f"{where}: {name} defaults to {value!r}, the table to {default!r}")
    assert not wrong, "\n".join(wrong)


def test_the_default_check_sees_a_default_that_drifted(monkeypatch):
    """The check can fail: a dbt macro that kept an old default."""
    drifted = _defaults_written_elsewhere() + [("macros/x.sql", "CHISO_PROVINCES", "20")]
    monkeypatch.setattr(sys.modules[__name__], "_defaults_written_elsewhere", lambda: drifted)
    with pytest.raises(AssertionError, match="CHISO_PROVINCES defaults to '20'"):
        test_a_default_written_outside_the_table_is_the_tables()


def _checked_settings():
    from warehouse.settings import (
        SETTINGS,
        _items,
        _optional,
        _optional_secret,
        _path,
        _secret,
        _text,
    )

    free = (_text, _optional, _path, _items, _secret, _optional_secret)
    return [s.name for s in SETTINGS if s.read not in free]


@pytest.mark.parametrize("name", _checked_settings())
def test_every_checked_setting_refuses_a_bad_value_naming_itself(clean, name):
    clean.setenv(name, "không hợp lệ")
    with pytest.raises(SettingsError, match=name):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("CHISO_DATA_DOCS", "off", "data_docs", False),
        ("CHISO_VERBOSE", "yes", "verbose", True),
        ("CHISO_HTTP_TIMEOUT", "2.5", "http_timeout", 2.5),
        ("CHISO_KEEP_VERSIONS", "9", "keep_versions", 9),
        ("CHISO_WEB_BASE_URL", "https://chiso.example/chiso/", "web_base_url",
         "https://chiso.example/chiso"),
        ("CHISO_PORTAL_APIS", " new ", "portal_apis", ("new",)),
    ],
)  # fmt: skip
def test_a_good_value_is_read_as_its_kind(clean, name, value, field, expected):
    clean.setenv(name, value)
    assert getattr(load_settings(), field) == expected


def test_paths_default_under_the_data_directory(clean, tmp_path):
    clean.setenv("CHISO_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.inbox_dir == tmp_path / "inbox"
    assert settings.published_path == tmp_path / "published" / "chiso.duckdb"


def test_a_password_or_key_is_kept_exactly_as_given(clean):
    clean.setenv("CHISO_PG_PASSWORD", " pass word ")
    clean.setenv("CHISO_WEB_SECRET", "key ")
    clean.setenv("CHISO_PG_USER", " chiso ")  # a name is trimmed
    settings = load_settings()
    assert settings.postgres.password == " pass word " and settings.web_secret == "key "
    assert settings.postgres.user == "chiso"
