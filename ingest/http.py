"""Resilient HTTP for the source connectors: timeouts, bounded bodies, retries with backoff.

A portal that is slow, fails, or answers with an endless stream must neither hang a run nor
fill the disk: every request has a timeout, every body a size and time limit, transient
failures (connection errors, timeouts, HTTP 429 and 5xx) are retried with exponential
backoff plus jitter (a ``Retry-After`` header is honoured, capped), and requests to one host
are spaced by a polite minimum interval.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from warehouse.errors import ChisoError

MAX_RETRY_AFTER = 300.0  # seconds: a server asking for longer is treated as down
_last_request: dict[str, float] = {}
_polite_lock = threading.Lock()


class FetchError(ChisoError):
    """The source could not be fetched; the message says what was tried."""


@dataclass(frozen=True)
class Answer:
    body: bytes
    status: int
    content_type: str


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _wait_politely(url: str, min_interval: float) -> None:
    host = urllib.parse.urlsplit(url).netloc
    with _polite_lock:
        wait = _last_request.get(host, 0.0) + min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _last_request[host] = time.monotonic()


def _read_bounded(response, url: str, max_bytes: int, max_seconds: float) -> bytes:
    chunks, size = [], 0
    deadline = time.monotonic() + max_seconds  # a trickling stream ends too
    while chunk := response.read(1 << 16):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: the answer exceeds {max_bytes:,} bytes; stopped")
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: the answer took longer than {max_seconds:.0f} s; stopped")
        chunks.append(chunk)
    return b"".join(chunks)


def post(
    url: str,
    *,
    json_body: dict | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 30.0,
    max_bytes: int = 50 * 1024 * 1024,
    attempts: int = 3,
    backoff: float = 1.0,
    min_interval: float = 0.0,
    log: Callable[[str], None] = print,
) -> Answer:
    """POST a JSON body or a form and return the raw answer (retried, bounded, polite).

    ``timeout`` bounds connecting and each read; the whole body must arrive within four
    times that. Raises FetchError naming the URL and the last failure.
    """
    if (json_body is None) == (form is None):
        raise ValueError("give exactly one of json_body and form")
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        content_type = "application/json"
    else:
        data = urllib.parse.urlencode(form).encode("utf-8")
        content_type = "application/x-www-form-urlencoded; charset=UTF-8"
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    last_error = ""
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        _wait_politely(url, min_interval)
        request = urllib.request.Request(url, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = _read_bounded(response, url, max_bytes, timeout * 4)
                return Answer(body, response.status, response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
            if error.code != 429 and error.code < 500:
                raise FetchError(f"{url}: {last_error} (not retried)") from None
            wait = retry_after_seconds(error.headers.get("Retry-After"))
            if wait is not None and wait > MAX_RETRY_AFTER:
                raise FetchError(
                    f"{url}: {last_error}, Retry-After {wait:.0f} s exceeds "
                    f"{MAX_RETRY_AFTER:.0f} s; not waited"
                ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            last_error = f"{type(reason).__name__}: {reason}"
        if attempt < attempts:
            if wait is None:  # exponential backoff with full jitter on the upper half
                wait = backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
                why = "backoff"
            else:
                why = "Retry-After"
            log(f"  {url}: {last_error}; retry {attempt}/{attempts - 1} in {wait:.2g} s ({why})")
            time.sleep(wait)
    raise FetchError(f"{url}: {last_error} after {attempts} attempts")
