"""National Public Service Portal, index 766 (Decision 766/QĐ-TTg): both of its APIs.

- new API: ``POST <base>/api/v1/reporting/evaluation/service-results`` with a JSON body
  (``{"timeType": "year", "year": 2026, "departmentType": "ADMINISTRATIVE_UNIT"}``) answers
  ``{code, message, data}``: ``data.evaluation`` one score row per province (portal codes
  H01..H61), ``data.donuts`` the national dossier (online vs direct) and provision
  (full / partial / none) counts, ``data.monthlyChart`` and ``data.dossierChart`` by month.
- old API: ``POST <base>/jsp/rest.jsp`` with a form field ``params`` holding JSON (service
  ``report_tinh_766_service``, ``p_nam, p_6thang, p_quy, p_thang, p_tinh_id, p_loaidonvi,
  loaichitieu, pageIndex, pageSize``) answers a bare JSON list of rows whose values are all
  text: ``p_tinh_id`` 0 gives the provinces, a province's agency ID its departments
  (LOAI_COQUAN 2) and communes (LOAI_COQUAN 3). Pages are fetched until a short one.

Every answer is kept unchanged in the landing area (one folder per request, the pages and a
sidecar with URL, parameters, HTTP status and fetch time) before anything is parsed; loading
reads only the landing area, so a parser fix re-runs over history (:func:`reload`) without
refetching. An answer of the wrong shape (HTML error page, truncated JSON, a field missing or
new) goes to the quarantine with the reason and nothing of that request is loaded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import closing
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from ingest.http import FetchError, post
from ingest.landing import land_bytes
from warehouse import raw_schema
from warehouse.errors import ChisoError
from warehouse.raw import insert_rows
from warehouse.settings import Settings
from warehouse.transaction import transaction

SOURCE = "portal_766"
NEW_PATH = "/api/v1/reporting/evaluation/service-results"
OLD_PATH = "/jsp/rest.jsp"
OLD_SERVICE = "report_tinh_766_service"
GROUPS = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH")
OLD_FIELDS = frozenset(
    {"ID", "TEN", "TEN_COQUAN", "MA_COQUAN", "LOAI_COQUAN", "CAPDONVIID", "ID_COQUAN"}
    | set(GROUPS)
    | {"TONG_SCORE", "ROW_STT"}
)
NEW_FIELDS = frozenset(
    {"departmentId", "departmentName", "departmentCode", "totalScore", "ratio", "scoreDelta"}
    | {"groupScores"}
)
UNIT_KINDS = {"1": "province", "2": "department", "3": "commune"}
MAX_PAGES = 200
_PORTAL_PROVINCE = re.compile(r"(?:^|\.)(H\d{2})(?=\.|$)")

DDL = raw_schema.PORTAL_766  # warehouse/raw_schema.py: every raw table


@dataclass(frozen=True)
class ScoreRow:
    """One unit's index-766 score in one answer: a row of raw.portal_766_scores."""

    file_sha256: str
    period_kind: str
    period: str
    department_code: str
    department_name: str
    province_code: str | None
    total_score: float | None
    score_delta: float | None
    ckmb: float | None
    tdgq: float | None
    clgq: float | None
    tttt: float | None
    mdhl: float | None
    mdsh: float | None
    load_id: str
    loaded_at: datetime
    api: str
    unit_kind: str
    agency_id: str | None
    national_rank: int | None
    request_key: str
    fetched_at: datetime


@dataclass(frozen=True)
class NationalRow:
    """One national figure of a new-API answer: a row of raw.portal_766_national."""

    file_sha256: str
    request_key: str
    period_kind: str
    period: str
    measure: str
    category: str
    month: str | None
    value: float | None
    percent: float | None
    load_id: str
    loaded_at: datetime
    fetched_at: datetime


def _columns(row_type) -> list[str]:
    return [item.name for item in fields(row_type)]


class PortalError(ChisoError):
    """The portal answered, but not with what chiso can use; nothing was loaded."""


@dataclass(frozen=True)
class Request:
    """One logical request to the portal (an old-API request may span several pages)."""

    api: str  # "new" or "old"
    period_kind: str  # "year" or "month"
    period: str  # "2026" or "2025-10"
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        text = json.dumps([self.api, self.params], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @property
    def path(self) -> str:
        return NEW_PATH if self.api == "new" else OLD_PATH


def new_request(year: int, month: int | None = None) -> Request:
    body: dict = {"timeType": "year", "year": year, "departmentType": "ADMINISTRATIVE_UNIT"}
    if month is not None:  # the month form follows the year form; not seen in a sample yet
        body.update(timeType="month", month=month)
    return _request("new", year, month, body)


def old_request(year: int, month: int | None = None, agency_id: str | int = 0) -> Request:
    params = {
        "type": "ref",
        "service": OLD_SERVICE,
        "p_nam": str(year),
        "p_6thang": 0,
        "p_quy": 0,
        "p_thang": month or 0,
        "p_tinh_id": agency_id if agency_id == 0 else str(agency_id),
        "p_loaidonvi": 1,
        "loaichitieu": 0,
    }
    return _request("old", year, month, params)


def _request(api: str, year: int, month: int | None, params: dict) -> Request:
    if month is None:
        return Request(api, "year", f"{year:04d}", params)
    return Request(api, "month", f"{year:04d}-{month:02d}", params)


def portal_provinces(settings: Settings) -> dict[str, dict[str, str]]:
    """The crosswalk seed: portal code (H01) -> province_code, name, agency ID."""
    from warehouse.reference import read_seed

    rows = read_seed(settings.dbt_project_dir / "seeds", "portal_provinces")
    return {row["portal_code"]: row for row in rows}


def requests_for(settings: Settings, period: str) -> list[Request]:
    """What `chiso ingest portal --period` fetches: the configured APIs for that month (or
    year), and the departments and communes of the configured provinces."""
    year, month = (int(period[:4]), int(period[5:7])) if len(period) == 7 else (int(period), None)
    requests = []
    if "new" in settings.portal_apis:
        requests.append(new_request(year, month))
    if "old" in settings.portal_apis:
        requests.append(old_request(year, month))
        crosswalk = portal_provinces(settings)
        for code in settings.portal_sub_units:
            if code not in crosswalk:
                raise PortalError(
                    f"CHISO_PORTAL_SUB_UNITS names '{code}', which is not in "
                    "seeds/portal_provinces.csv"
                )
            requests.append(old_request(year, month, crosswalk[code]["portal_agency_id"]))
    return requests


# --- checking answers -------------------------------------------------------------------


class _PageWords(HTMLParser):
    """The title, headings and text of an HTML page, to quote what it says."""

    def __init__(self):
        super().__init__()
        self.parts: dict[str, list[str]] = {"title": [], "heading": [], "text": []}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data):
        words = " ".join(data.split())
        if not words or {"script", "style"} & set(self._open):
            return
        if "title" in self._open:
            self.parts["title"].append(words)
        elif {"h1", "h2", "h3"} & set(self._open):
            self.parts["heading"].append(words)
        else:
            self.parts["text"].append(words)


def page_says(raw: bytes, limit: int = 160) -> str:
    """What an HTML page says, for an error message: its title, else its first heading
    (a maintenance page often has only "Hệ thống đang bảo trì" in an <h1>), else the
    start of its text."""
    words = _PageWords()
    words.feed(raw[:65536].decode("utf-8", "replace"))
    for kind in ("title", "heading", "text"):
        said = " ".join(words.parts[kind]).strip()
        if said:
            return said[:limit]
    return "an empty page"


def _json(raw: bytes) -> object:
    head = raw.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html", b"<")):
        raise PortalError(
            f"the portal answered with an HTML page, not JSON; the page says: {page_says(raw)!r}"
        )
    try:
        return json.loads(raw)
    except ValueError as error:
        raise PortalError(f"the answer is not complete JSON ({error})") from None


def _drift(row: object, expected: frozenset[str], where: str) -> None:
    if not isinstance(row, dict):
        raise PortalError(f"{where} is a {type(row).__name__}, not an object")
    missing, new = expected - set(row), set(row) - expected
    if missing or new:
        parts = []
        if missing:
            parts.append(f"lacks {', '.join(sorted(missing))}")
        if new:
            parts.append(f"has new field {', '.join(sorted(new))}")
        raise PortalError(f"{where} {' and '.join(parts)} (the answer's shape changed)")


def parse_new(raw: bytes) -> dict:
    """The ``data`` of a new-API answer, checked field by field."""
    answer = _json(raw)
    if not isinstance(answer, dict):
        raise PortalError("the answer is not a JSON object")
    _drift(answer, frozenset({"code", "message", "data"}), "the answer")
    if answer["code"] != "OK":
        raise PortalError(f"the portal answered code {answer['code']!r}: {answer['message']!r}")
    data = answer["data"]
    if not isinstance(data, dict) or not isinstance(data.get("evaluation"), list):
        raise PortalError("the answer has no data.evaluation list")
    for index, row in enumerate(data["evaluation"]):
        _drift(row, NEW_FIELDS, f"evaluation row {index}")
        for name in ("departmentCode", "departmentName"):
            if not isinstance(row[name], str):
                raise PortalError(f"evaluation row {index} {name} is not text")
        _drift(row["groupScores"] or {}, frozenset(GROUPS), f"evaluation row {index} groupScores")
    donuts = data.get("donuts") or {}
    if not isinstance(donuts, dict):
        raise PortalError("data.donuts is not an object")
    for name in ("onlineDossier", "onlineProvision"):
        items = donuts.get(name) or []
        if not isinstance(items, list):
            raise PortalError(f"data.donuts.{name} is not a list")
        for index, item in enumerate(items):
            _drift(item, frozenset({"code", "name", "value", "percent"}), f"{name} {index}")
    for chart in ("monthlyChart", "dossierChart"):
        points = data.get(chart) or []
        if not isinstance(points, list) or not all(
            isinstance(point, dict) and str(point.get("month", "")).isdigit() for point in points
        ):
            raise PortalError(f"data.{chart} is not a list of months")
    return data


def parse_old(raw: bytes) -> list[dict]:
    """The rows of one old-API page, checked field by field."""
    rows = _json(raw)
    if not isinstance(rows, list):
        raise PortalError("the answer is not a JSON list of rows")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PortalError(f"row {index} is not an object")
        _drift(row, OLD_FIELDS, f"row {index}")
        for name, value in row.items():  # the old API answers every value as text
            if value is not None and not isinstance(value, str):
                raise PortalError(f"row {index} {name} is a {type(value).__name__}, not text")
        if row["LOAI_COQUAN"] not in UNIT_KINDS:
            raise PortalError(f"row {index} has unknown LOAI_COQUAN {row['LOAI_COQUAN']!r}")
    return rows


# --- fetching ---------------------------------------------------------------------------


def _post(settings: Settings, request: Request, page: int | None, log) -> tuple[dict, bytes]:
    url = settings.portal_base_url.rstrip("/") + request.path
    options = dict(
        timeout=settings.http_timeout,
        attempts=settings.http_attempts,
        backoff=settings.http_backoff,
        min_interval=settings.http_min_interval,
        log=log,
    )
    if request.api == "new":
        answer = post(url, json_body=request.params, **options)
        sent = request.params
    else:
        sent = request.params | {"pageIndex": page, "pageSize": settings.portal_page_size}
        params = json.dumps(sent, ensure_ascii=False, separators=(",", ":"))
        answer = post(url, form={"params": params}, **options)
    meta = {
        "api": request.api,
        "url": url,
        "params": sent,
        "request_key": request.key,
        "period_kind": request.period_kind,
        "period": request.period,
        "page": page or 1,
        "http_status": answer.status,
        "content_type": answer.content_type,
        "fetched_at": datetime.now(UTC).isoformat(),
    }
    return meta, answer.body


def fetch(settings: Settings, request: Request, log: Callable[[str], None] = print) -> Path:
    """Fetch every page of ``request``, check each, and land them together; return the
    request's landing folder. A bad page sends all its request's pages to the quarantine
    with the reason, and raises: nothing of that request is landed or loaded."""
    pages: list[tuple[dict, bytes]] = []
    try:
        if request.api == "new":
            pages.append(_post(settings, request, None, log))
            parse_new(pages[-1][1])
        else:
            for page in range(1, MAX_PAGES + 1):
                pages.append(_post(settings, request, page, log))
                if len(parse_old(pages[-1][1])) < settings.portal_page_size:
                    break
            else:
                raise PortalError(f"more than {MAX_PAGES} pages: stopped")
    except PortalError as error:
        folder = settings.quarantine_dir / SOURCE / request.period / request.key
        for meta, body in pages:
            sha256 = hashlib.sha256(body).hexdigest()
            land_bytes(body, folder, sha256, ".json", meta | {"error": str(error)})
        raise PortalError(f"{request.api} API {request.params}: {error}") from None
    folder = settings.landing_dir / SOURCE / request.period / request.key
    for meta, body in pages:
        meta["pages"] = len(pages)
        land_bytes(body, folder, hashlib.sha256(body).hexdigest(), ".json", meta)
    return folder


# --- loading from the landing area ------------------------------------------------------


def _landed_pages(folder: Path) -> list[tuple[dict, Path]]:
    pages = []
    for sidecar in sorted(folder.glob("*.json.meta.json")):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        pages.append((meta, sidecar.with_name(sidecar.name.removesuffix(".meta.json"))))
    pages.sort(key=lambda item: item[0]["page"])
    if not pages or len(pages) != pages[0][0].get("pages", len(pages)):
        raise PortalError(f"{folder}: the request's pages are incomplete; fetch it again")
    return pages


def _score(value: object, name: str, where: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PortalError(f"{where}: {name} {value!r} is not a number") from None


def _province(crosswalk: dict, portal_code: str, name: str) -> str:
    match = _PORTAL_PROVINCE.search(portal_code or "")
    row = crosswalk.get(match[1]) if match else None
    if row is None:
        raise PortalError(
            f"portal code {portal_code!r} ({name}) has no province in "
            "seeds/portal_provinces.csv; add it, then run `chiso ingest portal --reparse`"
        )
    return row["province_code"]


def _rows(
    meta: dict, landed: Path, crosswalk: dict, load_id: str, now
) -> tuple[list[ScoreRow], list[NationalRow]]:
    sha256 = landed.name.split(".")[0]
    kind, period, key = meta["period_kind"], meta["period"], meta["request_key"]
    fetched = datetime.fromisoformat(meta["fetched_at"])
    lineage = {"file_sha256": sha256, "load_id": load_id, "loaded_at": now, "fetched_at": fetched}
    scores: list[ScoreRow] = []
    national: list[tuple] = []  # (measure, category, month, value, percent)

    def score(code: str, name: str, total, delta, groups: dict, **extra) -> ScoreRow:
        where = f"{landed.name} {code}"
        return ScoreRow(
            period_kind=kind,
            period=period,
            department_code=code,
            department_name=name,
            province_code=_province(crosswalk, code, name),
            total_score=_score(total[1], total[0], where),
            score_delta=_score(delta[1], delta[0], where) if delta else None,
            **{group.lower(): _score(groups.get(group), group, where) for group in GROUPS},
            request_key=key,
            **lineage,
            **extra,
        )

    if meta["api"] == "new":
        data = parse_new(landed.read_bytes())
        for row in data["evaluation"]:
            scores.append(
                score(
                    row["departmentCode"],
                    row["departmentName"],
                    ("totalScore", row["totalScore"]),
                    ("scoreDelta", row["scoreDelta"]),
                    row["groupScores"] or {},
                    api="new",
                    unit_kind="province",
                    agency_id=str(row["departmentId"]),
                    national_rank=None,
                )
            )
        for measure, items in (data.get("donuts") or {}).items():
            for item in items or []:
                national.append(
                    (
                        measure,
                        str(item["code"]),
                        None,
                        _score(item["value"], "value", f"{landed.name} {measure}"),
                        _score(item["percent"], "percent", f"{landed.name} {measure}"),
                    )
                )
        for chart, names in (
            ("monthlyChart", ("averageScore",)),
            ("dossierChart", ("onTimePct", "overduePct")),
        ):
            for point in data.get(chart) or []:
                for name in names:
                    if (point or {}).get(name) is not None:
                        month = f"{period[:4]}-{int(point['month']):02d}"
                        value = _score(point[name], name, f"{landed.name} {chart}")
                        national.append((name, "national", month, value, None))
        overview = data.get("overview") or {}
        if overview.get("totalScore") is not None:
            total = _score(overview["totalScore"], "totalScore", f"{landed.name} overview")
            national.append(("totalScore", "national", None, total, None))
    else:
        for row in parse_old(landed.read_bytes()):
            scores.append(
                score(
                    row["MA_COQUAN"],
                    row["TEN"],
                    ("TONG_SCORE", row["TONG_SCORE"]),
                    None,
                    row,
                    api="old",
                    unit_kind=UNIT_KINDS[row["LOAI_COQUAN"]],
                    agency_id=row["ID"],
                    national_rank=(int(row["ROW_STT"]) if str(row["ROW_STT"]).isdigit() else None),
                )
            )
    figures = [
        NationalRow(
            request_key=key,
            period_kind=kind,
            period=period,
            measure=measure,
            category=category,
            month=month,
            value=value,
            percent=percent,
            **lineage,
        )
        for measure, category, month, value, percent in national
    ]
    return scores, figures


def _collect(
    folder: Path, crosswalk: dict, now: datetime
) -> tuple[list[ScoreRow], list[NationalRow]]:
    """Every row of one landed request (all pages parsed before anything is written)."""
    pages = _landed_pages(folder)
    load_id = f"{SOURCE}-{pages[0][0]['request_key']}-{now:%Y%m%dT%H%M%S}"
    scores, national = [], []
    for meta, landed in pages:
        page_scores, page_national = _rows(meta, landed, crosswalk, load_id, now)
        scores += page_scores
        national += page_national
    return scores, national


def _insert(conn, scores: list[ScoreRow], national: list[NationalRow]) -> None:
    insert_rows(conn, "raw.portal_766_scores", _columns(ScoreRow), [astuple(row) for row in scores])
    insert_rows(
        conn, "raw.portal_766_national", _columns(NationalRow), [astuple(row) for row in national]
    )


def load(conn, folder: Path, settings: Settings) -> int:
    """Load one landed request (all its pages) into ``raw.portal_766_scores`` and
    ``raw.portal_766_national`` in one transaction; a request that has rows loads once
    (a later fetch of the same request lands beside it and replaces it in staging)."""
    conn.execute(DDL)
    now = datetime.now(UTC)
    scores, national = _collect(folder, portal_provinces(settings), now)
    sha256s = sorted({row.file_sha256 for row in scores} | {row.file_sha256 for row in national})
    among = "file_sha256 in (select unnest(cast(? as varchar[])))"  # DuckDB and PostgreSQL
    if sha256s and any(
        conn.execute(f"select count(*) from raw.{table} where {among}", [sha256s]).fetchone()[0]
        for table in ("portal_766_scores", "portal_766_national")
    ):
        return 0
    with transaction(conn):
        _insert(conn, scores, national)
    return len(scores)


def ingest(
    settings: Settings,
    requests: list[Request],
    holder: str,
    log: Callable[[str], None] = print,
    progress: bool = False,
) -> tuple[int, int]:
    """Fetch and land every request (outside the warehouse lock: the network is slow),
    then load them all under the lock; return (answers landed, score rows loaded)."""
    from warehouse.backends import raw_connection
    from warehouse.lock import run_lock

    folders = []
    for number, request in enumerate(requests, start=1):
        if progress:
            log(f"[{number}/{len(requests)}] {request.api} API {request.period}: {request.params}")
        folders.append(fetch(settings, request, log))
    with run_lock(settings.lock_path, holder), closing(raw_connection(settings)) as conn:
        rows = sum(load(conn, folder, settings) for folder in folders)
    return len(folders), rows


def landed_requests(settings: Settings, period: str | None = None) -> list[Path]:
    root = settings.landing_dir / SOURCE
    pattern = f"{period}/*" if period else "*/*"
    return sorted(path for path in root.glob(pattern) if path.is_dir())


def reload(conn, settings: Settings) -> int:
    """Re-parse every landed answer (after a parser or crosswalk fix): the raw portal
    tables are rebuilt from the landing area alone, in one transaction."""
    conn.execute(DDL)
    crosswalk, now = portal_provinces(settings), datetime.now(UTC)
    scores, national = [], []
    for folder in landed_requests(settings):
        folder_scores, folder_national = _collect(folder, crosswalk, now)
        scores += folder_scores
        national += folder_national

    with transaction(conn):
        conn.execute("delete from raw.portal_766_scores")
        conn.execute("delete from raw.portal_766_national")
        _insert(conn, scores, national)
    return len(scores)


__all__ = [
    "FetchError",
    "PortalError",
    "Request",
    "fetch",
    "ingest",
    "load",
    "new_request",
    "old_request",
    "parse_new",
    "parse_old",
    "reload",
    "requests_for",
]
