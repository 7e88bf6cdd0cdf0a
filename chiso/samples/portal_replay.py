"""Deterministic sample figures of the public sources, in their real shapes, and a local
replay server, so the demo runs the real connector code without network.

- :func:`portal_answer`: a new-API index-766 answer for a month (the 34 provinces of
  ``seeds/portal_provinces.csv``, group scores under their maxima, donuts, charts);
- :func:`serve_portal`: a local HTTP server answering the new API's requests with them;
- :func:`write_provision_export` and :func:`write_dti_export`: CSV exports in the layouts
  teams keep (the provision table with Vietnamese thousands separators; DTI 2022-2024 for
  the 63 pre-2025 provinces).
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from chiso.samples.report_files import _rng
from ingest.sources.portal_766 import NEW_PATH
from ingest.sources.provision import COUNTS
from warehouse.reference import read_seed
from warehouse.settings import dbt_project_dir

GROUP_MAXIMA = {"CKMB": 18, "TDGQ": 20, "CLGQ": 12, "TTTT": 10, "MDHL": 18, "MDSH": 22}


def _provinces() -> list[dict[str, str]]:
    return read_seed(dbt_project_dir() / "seeds", "portal_provinces")


def _share(code: str, year: int, month: int) -> float:
    """A province's share of the maximum: a base, a slow climb, monthly noise."""
    base = _rng("766-base", code).uniform(0.5, 0.75)
    climb = _rng("766-climb", code).uniform(0.001, 0.004) * ((year - 2022) * 12 + month)
    noise = _rng("766-month", code, str(year), str(month)).uniform(-0.03, 0.03)
    return min(0.98, max(0.3, base + climb + noise))


def portal_answer(year: int, month: int) -> bytes:
    evaluation = []
    for province in _provinces():
        share = _share(province["portal_code"], year, month)
        groups = {
            group: round(
                maximum
                * min(1.0, share * _rng("766-g", province["portal_code"], group).uniform(0.9, 1.1)),
                2,
            )
            for group, maximum in GROUP_MAXIMA.items()
        }
        total = round(sum(groups.values()), 2)
        before = _share(province["portal_code"], year, month - 1) if month > 1 else share
        evaluation.append(
            {
                "departmentId": f"sample-{province['portal_agency_id']}",
                "departmentName": f"UBND {province['province_name_vi']}",
                "departmentCode": province["portal_code"],
                "totalScore": total,
                "ratio": total,
                "scoreDelta": round(100 * (share - before), 2),
                "groupScores": groups,
            }
        )
    online = 400_000 + 9_000 * ((year - 2022) * 12 + month)
    answer = {
        "code": "OK",
        "message": "OK",
        "data": {
            "overview": {
                "departmentName": "Cả nước",
                "departmentCode": None,
                "totalScore": round(sum(e["totalScore"] for e in evaluation) / len(evaluation), 2),
                "totalMaxScore": 100,
                "ratio": None,
            },
            "donuts": {
                "onlineDossier": [
                    {"code": "ONLINE", "name": "Trực tuyến", "value": online, "percent": None},
                    {
                        "code": "OTHER",
                        "name": "Trực tiếp, bưu chính",
                        "value": 60_000,
                        "percent": None,
                    },
                ],
            },
            "evaluation": evaluation,
            "monthlyChart": [],
            "dossierChart": [],
        },
    }
    return json.dumps(answer, ensure_ascii=False, indent=1).encode("utf-8")


@contextmanager
def serve_portal() -> Iterator[str]:
    """A local server answering the new API with :func:`portal_answer`; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != NEW_PATH or body.get("timeType") != "month":
                self.send_error(404)
                return
            answer = portal_answer(int(body["year"]), int(body["month"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:  # quiet: the demo prints its own progress
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _vn_thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def write_provision_export(path: Path, period: str) -> Path:
    """The provision table as teams export it (Vietnamese thousands separators)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["TinhThanh", *COUNTS])
        for province in _provinces():
            rng = _rng("provision", province["portal_code"], period)
            procedures = rng.randint(1900, 2400)
            eligible = rng.randint(1000, 1150)
            full = rng.randint(int(eligible * 0.6), eligible)
            partly = rng.randint(700, procedures - full - 20)
            none = procedures - full - partly
            name = province["province_name_vi"].removeprefix("Tỉnh ")
            writer.writerow([name, *map(_vn_thousands, (procedures, eligible, full, partly, none))])
    return path


def write_dti_export(path: Path, years: tuple[int, ...] = (2022, 2023, 2024)) -> Path:
    """DTI tables for the 63 pre-2025 provinces (scores 0..1, '.' decimals)."""
    from ingest.sources.admin_units import build_tables

    provinces = sorted({(row[0], row[1]) for row in build_tables("lookup")["admin_units_legacy"]})
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "TinhThanh",
                "DTI_Tong",
                "DTI_ChinhQuyenSo",
                "DTI_KinhTeSo",
                "DTI_XaHoiSo",
                "HaTangSo",
                "Nam",
            ]
        )
        for year in years:
            for code, name in provinces:
                base = _rng("dti", code).uniform(0.35, 0.7) + 0.04 * (year - 2022)
                pillars = [
                    round(min(1.0, base * _rng("dti", code, str(year), p).uniform(0.8, 1.2)), 4)
                    for p in ("gov", "eco", "soc", "infra")
                ]
                writer.writerow([name, round(sum(pillars) / 4, 4), *pillars, year])
    return path


def ingest_sample_sources(settings, start: str, end: str, log=print) -> str:
    """The demo's public sources through the real connectors: every month's index-766
    answer fetched from the local replay server, landed and loaded; the provision table
    (as of ``end``) and the DTI tables loaded from sample exports. Safe to re-run."""
    import dataclasses

    from ingest import exports
    from ingest.sources import dti, portal_766, provision
    from warehouse.backends import raw_connection
    from warehouse.lock import run_lock
    from warehouse.periods import months

    folder = settings.data_dir / "sample_exports"
    provision_csv = write_provision_export(folder / f"dichvucong_{end}.csv", end)
    dti_csv = write_dti_export(folder / "dti_2022_2024.csv")
    requests = [portal_766.new_request(*map(int, p.split("-"))) for p in months(start, end)]
    with serve_portal() as url:
        local = dataclasses.replace(settings, portal_base_url=url, http_min_interval=0.0)
        answers, scores = portal_766.ingest(local, requests, "chiso demo (sample sources)", log)
    with (
        run_lock(settings.lock_path, "chiso demo (sample exports)"),
        closing(raw_connection(settings)) as conn,
    ):
        _, provision_rows = exports.ingest_export(
            conn, provision.EXPORT, provision_csv, end, settings
        )
        _, dti_rows = exports.ingest_export(conn, dti.EXPORT, dti_csv, "undated", settings)
    return (
        f"portal replay: {answers} monthly answers fetched from {url}, {scores} score rows "
        f"loaded; provision {provision_rows} rows; DTI {dti_rows} rows"
    )
