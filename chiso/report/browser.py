"""Headless Chromium (Debian's ``chromium`` package) for the report's PDF and screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from warehouse.errors import ChisoError


class ReportError(ChisoError):
    """The report cannot be made (nothing published, not for that month, or no browser
    to print it with)."""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _headless(*arguments: str) -> subprocess.CompletedProcess:
    browser = chromium()
    if browser is None:
        raise ReportError("this needs Chromium (apt-get install chromium); the HTML is written")
    # a profile of its own: two at once must not meet in one (the second would hand its
    # page to the first and exit); no background connections (none reach out of here)
    with tempfile.TemporaryDirectory(
        prefix="chiso-chromium-", ignore_cleanup_errors=True
    ) as profile:
        try:
            return _run_browser(browser, profile, arguments)
        except subprocess.CalledProcessError as error:
            raise ReportError(
                f"Chromium failed (exit {error.returncode}): {error.stderr.strip()[-500:]}"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ReportError(f"Chromium could not run: {error}") from None


def _run_browser(browser: str, profile: str, arguments: tuple[str, ...]):
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def to_png(html_path: Path, width: int = 800, height: int = 3400) -> Path:
    """A screenshot of the report (headless Chromium), beside the HTML."""
    png = html_path.with_suffix(".png")
    _headless(
        f"--window-size={width},{height}", f"--screenshot={png}", html_path.resolve().as_uri()
    )
    return png


def to_pdf(html_path: Path) -> Path:
    """Print the report to PDF with headless Chromium (Debian's chromium package)."""
    pdf = html_path.with_suffix(".pdf")
    _headless("--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_path.resolve().as_uri())
    return pdf


def to_pdfs(html_paths: list[Path]) -> list[Path]:
    """:func:`to_pdf` for several reports, one Chromium per core at a time (a report's
    print is about a second and a half of one core: 34 provinces took 89 s one by one)."""
    workers = max(1, min(len(html_paths), len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(to_pdf, html_paths))
