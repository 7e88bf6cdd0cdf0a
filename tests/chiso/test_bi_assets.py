"""chiso's Superset dashboards as code (bi/superset/assets) and the zip ``chiso bi import``
sends: every reference between assets resolves, and the database is pointed at this
instance's published marts. (Superset itself: tests/chiso/test_superset.py.)"""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import replace

import pytest
import yaml

from chiso import bi
from warehouse.settings import PostgresSettings, load_settings


def assets(kind: str) -> dict[str, dict]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((bi.ASSETS_DIR / kind).rglob("*.yaml"))
    }


def unzipped(archive: bytes) -> dict[str, dict]:
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        return {name: yaml.safe_load(bundle.read(name)) for name in bundle.namelist()}


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


def test_every_chart_reads_a_dataset_of_the_code_and_every_dashboard_shows_charts_of_it():
    datasets = {config["uuid"]: config for config in assets("datasets").values()}
    databases = {config["uuid"] for config in assets("databases").values()}
    charts = assets("charts")
    assert len(datasets) == 8 and len(charts) == 11
    assert all(config["database_uuid"] in databases for config in datasets.values())
    for name, chart in charts.items():
        assert chart["dataset_uuid"] in datasets, name
        assert chart["query_context"], name  # the chart data API needs it
    chart_uuids = {chart["uuid"] for chart in charts.values()}
    shown = set()
    for slug, board in assets("dashboards").items():
        placed = [
            item["meta"]["uuid"]
            for item in board["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        ]
        assert placed and set(placed) <= chart_uuids, slug
        shown |= set(placed)
        for native in board["metadata"]["native_filter_configuration"]:
            for target in native["targets"]:
                assert target["datasetUuid"] in datasets, (slug, native["name"])
    assert shown == chart_uuids  # no chart left out of every dashboard


def test_the_bundle_opens_the_published_duckdb_file_read_only(settings):
    archive, passwords = bi.bundle(settings)
    files = unzipped(archive)
    database = files["chiso/databases/chiso.yaml"]
    assert database["sqlalchemy_uri"] == (
        f"duckdb:///{settings.published_path}?access_mode=read_only"
    )
    assert passwords == {}
    assert len([name for name in files if name.startswith("chiso/charts/")]) == 11
    assert "chiso/metadata.yaml" in files


def test_on_postgresql_the_bundle_reads_schema_published_as_the_reader_login(settings):
    pg = replace(
        settings,
        warehouse="postgres",
        postgres=PostgresSettings(
            host="db.example", port=5433, user="chiso", password="", dbname="dw"
        ),
        bi_pg_user="bi_reader",
        bi_pg_password="s3cret",
    )
    archive, passwords = bi.bundle(pg)
    database = unzipped(archive)["chiso/databases/chiso.yaml"]
    # the password travels beside the bundle, never inside it
    assert database["sqlalchemy_uri"] == (
        "postgresql+psycopg2://bi_reader:XXXXXXXXXX@db.example:5433/dw"
    )
    assert "s3cret" not in archive.decode("latin-1")
    assert passwords == {"databases/chiso.yaml": "s3cret"}
    options = database["extra"]["engine_params"]["connect_args"]["options"]
    assert options == "-c search_path=published"


def test_a_dashboard_exported_from_superset_has_its_filters_reach_every_chart(
    settings, tmp_path, monkeypatch
):
    """An export names the charts a native filter reaches by the exporting instance's ids;
    the bundle drops them so the filter reaches every chart in its scope wherever imported."""
    copied = tmp_path / "assets"
    shutil.copytree(bi.ASSETS_DIR, copied)
    board = copied / "dashboards" / "chiso-chi-tieu.yaml"
    config = yaml.safe_load(board.read_text(encoding="utf-8"))
    for native in config["metadata"]["native_filter_configuration"]:
        native["chartsInScope"], native["tabsInScope"] = [912, 913], []
    board.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(bi, "ASSETS_DIR", copied)

    sent = unzipped(bi.bundle(settings)[0])["chiso/dashboards/chiso-chi-tieu.yaml"]
    filters = sent["metadata"]["native_filter_configuration"]
    assert filters and all("chartsInScope" not in f and "tabsInScope" not in f for f in filters)
    assert [f["name"] for f in filters] == ["Chỉ tiêu", "Tỉnh"]
