"""The self-service pages: a reporting unit checks, sends and follows its reports; the
province's data engineer sees who has not reported. Vietnamese first, English beside it;
plain HTML forms (no JavaScript needed to send a file), readable on a phone.

One FastAPI application, served by ``chiso serve`` on a laptop and by Airflow's API server
under ``/chiso`` in production (``plugins/chiso_web.py``). Every page but the first needs a
personal link (:mod:`chiso.web.links`): ``/u/<token>`` for a unit, ``/p/<token>`` for a
province.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask

from chiso.web import figures, uploads
from chiso.web.links import PROVINCE, UNIT, Link, LinkRefused, Links
from ingest.readers import local_day
from warehouse.errors import ChisoError
from warehouse.periods import check_period, previous_month
from warehouse.reference import bilingual_labels
from warehouse.settings import Settings, load_settings

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
FORMATS = ("xlsx", "csv")


def open_period(settings: Settings) -> str:
    """The month units report now: the one before today's, where the instance is."""
    today = local_day(datetime.now(UTC), settings.timezone)
    return previous_month(f"{today:%Y-%m}")


def create_app() -> FastAPI:
    """The application, on the environment's settings (read per request)."""
    app = FastAPI(title="chiso — báo cáo chuyển đổi số", docs_url=None, redoc_url=None)

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request,
            name,
            {
                # labels from seeds/labels.csv: code -> (Vietnamese, English)
                "status_vi": bilingual_labels("reporting_status"),
                "progress_vi": bilingual_labels("status"),
                "group_vi": bilingual_labels("unit_group"),
                **context,
            },
            status_code=status,
        )

    def refused(request: Request, error: ChisoError, status: int) -> HTMLResponse:
        return page(request, "refused.html", status, vi=error.vi, en=error.en)

    def unit_of(token: str) -> tuple[Settings, Link, object]:
        """The unit a link opens, or LinkRefused (a unit no longer in the registry too)."""
        settings = load_settings()
        link = Links(settings).check(token, UNIT)
        unit = uploads.reference(settings)[0].get(link.subject)
        if unit is None:
            raise LinkRefused(
                f"Đơn vị {link.subject} không còn trong danh mục.",
                f"Unit {link.subject} is no longer in the registry.",
            )
        return settings, link, unit

    @app.exception_handler(LinkRefused)
    async def link_refused(request: Request, error: LinkRefused):
        return refused(request, error, 403)

    @app.exception_handler(uploads.UploadRefused)
    async def upload_refused(request: Request, error: uploads.UploadRefused):
        return refused(request, error, error.status)

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request):
        return page(request, "home.html")

    @app.get("/u/{token}", response_class=HTMLResponse)
    def unit_page(request: Request, token: str):
        settings, _, unit = unit_of(token)
        return page(
            request,
            "unit.html",
            token=token,
            unit=unit,
            period=open_period(settings),
            figures=figures.unit_figures(settings, unit.code),
            sent=uploads.history(settings, unit.code)[:12],
            limit_mb=f"{settings.max_file_bytes / 1024 / 1024:g}",
        )

    @app.get("/u/{token}/template")
    def template(request: Request, token: str, period: str | None = None, format: str = "xlsx"):
        from ingest.template import write_template

        settings, _, unit = unit_of(token)
        if format not in FORMATS:
            format = "xlsx"
        try:
            period = check_period(period) if period else open_period(settings)
        except ChisoError as error:
            return refused(request, error, 400)
        scratch = settings.web_dir / "tmp"  # inside the data directory, removed after
        scratch.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="template-", dir=scratch))
        name = f"bao-cao_{unit.code}_{period}.{format}"
        path = write_template(
            unit.group,
            period,
            folder / name,
            unit.served_province_code,
            uploads.reference(settings)[0],
            unit_code=unit.code,
        )
        return FileResponse(
            path,
            filename=name,
            background=BackgroundTask(lambda: _remove(folder)),
        )

    @app.post("/u/{token}/send", response_class=HTMLResponse)
    async def send(request: Request, token: str):
        settings, _, unit = unit_of(token)
        length = request.headers.get("content-length")
        if length is None:
            raise uploads.UploadRefused(
                "Trình duyệt không cho biết cỡ tệp. Hãy gửi lại bằng biểu mẫu trên trang.",
                "The browser did not say the file's size. Send it again with the page's form.",
                411,
            )
        if int(length) > settings.max_file_bytes + 64 * 1024:  # the form's own bytes
            raise uploads.too_large(settings)
        uploads.check_rate(settings, unit.code, datetime.now(UTC))
        form = await request.form(max_files=1, max_fields=4)
        sent = form.get("file")
        if sent is None or isinstance(sent, str) or not sent.filename:
            raise uploads.UploadRefused(
                "Chưa chọn tệp. Hãy chọn tệp báo cáo rồi bấm Gửi.",
                "No file chosen. Choose the report file, then press Send.",
                400,
            )
        data = await sent.read(settings.max_file_bytes + 1)
        await sent.close()
        receipt = uploads.receive(settings, unit.code, sent.filename, data)
        return page(request, "verdict.html", token=token, unit=unit, receipt=receipt)

    @app.get("/p/{token}", response_class=HTMLResponse)
    def province_page(request: Request, token: str, period: str | None = None):
        settings = load_settings()
        link = Links(settings).check(token, PROVINCE)
        try:
            period = check_period(period) if period else None
        except ChisoError as error:
            return refused(request, error, 400)
        period, periods, rows = figures.not_reported(settings, link.subject, period)
        return page(
            request,
            "province.html",
            token=token,
            province=link.subject,
            period=period,
            periods=periods,
            rows=rows,
        )

    @app.get("/healthz")
    def health() -> Response:
        return Response("ok", media_type="text/plain")

    return app


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
