"""Resilient HTTP for the source connectors: timeouts, bounded bodies, retries with backoff.

A portal that is slow, fails, or answers with an endless stream must neither hang a run nor
fill the disk: every request has a timeout, every body a size limit, and transient
failures (connection errors, HTTP 429 and 5xx) are retried with exponential backoff.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable


class FetchError(RuntimeError):
    """The source could not be fetched; the message says what was tried."""


def post_json(
    url: str,
    body: dict,
    *,
    timeout: float = 30.0,
    max_bytes: int = 50 * 1024 * 1024,
    attempts: int = 3,
    backoff: float = 1.0,
    log: Callable[[str], None] = print,
) -> bytes:
    """POST ``body`` as JSON and return the raw response bytes (retried, bounded)."""
    data = json.dumps(body).encode("utf-8")
    last_error = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                chunks, size = [], 0
                deadline = time.monotonic() + timeout * 4  # a trickling stream ends too
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"{url}: the answer exceeds {max_bytes:,} bytes; stopped")
                    if time.monotonic() > deadline:
                        raise FetchError(f"{url}: the answer took longer than {timeout * 4:.0f} s")
                    chunks.append(chunk)
                return b"".join(chunks)
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
            if error.code != 429 and error.code < 500:
                raise FetchError(f"{url}: {last_error} (not retried)") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            last_error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        if attempt < attempts:
            delay = backoff * 2 ** (attempt - 1)
            log(f"  {url}: {last_error}; retry {attempt}/{attempts - 1} in {delay:g} s")
            time.sleep(delay)
    raise FetchError(f"{url}: {last_error} after {attempts} attempts")
