"""National Public Service Portal, index 766 (Decision 766/QĐ-TTg): the new reporting API.

``POST <base>/api/v1/reporting/evaluation/service-results`` with a JSON body such as
``{"timeType": "year", "year": 2026, "departmentType": "ADMINISTRATIVE_UNIT"}`` answers
``{code, message, data}``; ``data.evaluation`` holds one score row per province
(departmentCode H01..H61, the portal's own codes), ``data.donuts`` the national dossier and
provision counts. Entry points: :func:`fetch` (request, check, land the raw answer
immutably) and :func:`load` (landed answer -> ``raw.portal_766_scores``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ingest.http import FetchError, post_json
from ingest.landing import land_bytes
from warehouse.settings import Settings

SOURCE = "portal_766"
PATH = "/api/v1/reporting/evaluation/service-results"
GROUPS = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH")

DDL = """
create schema if not exists raw;
create table if not exists raw.portal_766_scores (
    file_sha256 varchar not null, period_kind varchar not null, period varchar not null,
    department_code varchar not null, department_name varchar not null,
    province_code varchar, total_score double, score_delta double,
    ckmb double, tdgq double, clgq double, tttt double, mdhl double, mdsh double,
    load_id varchar not null, loaded_at timestamptz not null,
    primary key (file_sha256, department_code)
);
"""


class PortalError(RuntimeError):
    """The portal answered, but not with what chiso can use; nothing was loaded."""


def request_body(year: int, month: int | None = None) -> dict:
    body: dict = {"timeType": "year", "year": year, "departmentType": "ADMINISTRATIVE_UNIT"}
    if month is not None:  # the month form follows the year form; not seen in a sample yet
        body.update(timeType="month", month=month)
    return body


def parse(raw: bytes) -> list[dict]:
    """The evaluation rows of an answer, or a PortalError saying what is wrong."""
    try:
        answer = json.loads(raw)
    except ValueError as error:
        raise PortalError(f"the answer is not JSON ({error})") from None
    if not isinstance(answer, dict):
        raise PortalError("the answer is not a JSON object")
    if answer.get("code") != "OK":
        raise PortalError(
            f"the portal answered code {answer.get('code')!r}: {answer.get('message')!r}"
        )
    rows = (answer.get("data") or {}).get("evaluation")
    if not isinstance(rows, list) or not rows:
        raise PortalError("the answer has no data.evaluation rows")
    for index, row in enumerate(rows):
        missing = {"departmentCode", "departmentName", "totalScore"} - set(row)
        if missing:
            raise PortalError(f"evaluation row {index} lacks {', '.join(sorted(missing))}")
    return rows


def fetch(
    settings: Settings, year: int, month: int | None = None, log: Callable[[str], None] = print
) -> Path:
    """Fetch, check and land one answer; return the landed file. A bad answer is kept in
    the quarantine with the reason, and raises."""
    body = request_body(year, month)
    url = settings.portal_base_url.rstrip("/") + PATH
    raw = post_json(
        url,
        body,
        timeout=settings.http_timeout,
        attempts=settings.http_attempts,
        backoff=settings.http_backoff,
        log=log,
    )
    period = f"{year:04d}" if month is None else f"{year:04d}-{month:02d}"
    sha256 = hashlib.sha256(raw).hexdigest()
    meta = {"url": url, "body": body, "fetched_at": datetime.now(UTC).isoformat()}
    try:
        parse(raw)
    except PortalError as error:
        land_bytes(
            raw,
            settings.quarantine_dir / SOURCE / period,
            sha256,
            ".json",
            meta | {"error": str(error)},
        )
        raise
    return land_bytes(raw, settings.landing_dir / SOURCE / period, sha256, ".json", meta)


def _province_code(name: str) -> str | None:
    from ingest.geography import AdminUnitNotFound, by_name

    try:
        return by_name(name, "post_2025", "province").code
    except AdminUnitNotFound:
        return None


def load(conn, landed: Path) -> int:
    """Load one landed answer into raw.portal_766_scores (once per file, one transaction)."""
    conn.execute(DDL)
    sha256 = landed.name.split(".")[0]
    if conn.execute(
        "select count(*) from raw.portal_766_scores where file_sha256 = ?", [sha256]
    ).fetchone()[0]:
        return 0
    meta = json.loads(landed.with_name(landed.name + ".meta.json").read_text(encoding="utf-8"))
    body = meta["body"]
    kind = body["timeType"]
    period = f"{body['year']:04d}" if kind == "year" else f"{body['year']:04d}-{body['month']:02d}"
    now = datetime.now(UTC)
    rows = [
        (
            sha256,
            kind,
            period,
            row["departmentCode"],
            row["departmentName"],
            _province_code(row["departmentName"]),
            row.get("totalScore"),
            row.get("scoreDelta"),
            *[(row.get("groupScores") or {}).get(group) for group in GROUPS],
            f"{SOURCE}-{sha256[:16]}",
            now,
        )
        for row in parse(landed.read_bytes())
    ]
    conn.execute("begin transaction")
    try:
        conn.executemany(f"insert into raw.portal_766_scores values ({', '.join('?' * 16)})", rows)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return len(rows)


__all__ = ["FetchError", "PortalError", "fetch", "load", "parse", "request_body"]
