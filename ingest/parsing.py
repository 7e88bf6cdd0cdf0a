"""Shared parsing of the values Vietnamese report files and portal exports contain.

One place for numbers ("1.234,5", "85,5%"), periods ("06/2025", "2025-06") and dates
("05/07/2025", Excel serials), so no source re-implements them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta

from warehouse.bilingual import BilingualError

_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}$")
_PERIOD_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_PERIOD_VN = re.compile(r"^(?:t(?:hang|háng)?\s*)?(\d{1,2})\s*[/.-]\s*(\d{4})$", re.IGNORECASE)
_DATE_VN = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


class ParseError(BilingualError):
    """A value that cannot be read, said in Vietnamese and English (``.message``)."""


def parse_number(raw: object, decimal_point: bool = False) -> float | None:
    """Read a number as Vietnamese files write it; ``None`` for an empty cell.

    ``decimal_point=True`` is for exports written by tools in the English convention
    ("0.800" = 0.8, "1,234.5" = 1234.5): '.' is then always the decimal point.

    Vietnamese convention: '.' groups thousands, ',' marks decimals ("1.234,5" = 1234.5).
    A lone '.' is a decimal point unless it groups exactly three digits ("1.234" = 1234);
    a lone ',' is a decimal comma unless it groups thousands twice or more ("1,234,567").
    A trailing '%' is dropped: the number is read in percent units ("85,5%" = 85.5).
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ParseError(f"'{raw}' không phải là số", f"'{raw}' is not a number")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ParseError(f"'{raw}' không phải là số", f"'{raw}' is not a number")
        return float(raw)
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "-"):
        return None
    if text.endswith("%"):
        text = text[:-1]
    if decimal_point:
        text = text.replace(",", "")
    elif "." in text and "," in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif _THOUSANDS_DOT.match(text):
        text = text.replace(".", "")
    elif _THOUSANDS_COMMA.match(text):
        text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise ParseError(f"'{raw}' không phải là số", f"'{raw}' is not a number") from None
    if not math.isfinite(number):  # "inf", "NaN": float() reads them, no report means them
        raise ParseError(f"'{raw}' không phải là số", f"'{raw}' is not a number")
    return number


_LOST_ZEROS = re.compile(r"^\d{1,3}\.\d{1,2}$")


def parse_count(raw: object) -> int | None:
    """Read a count (a whole number) from a Vietnamese export, including the damage a
    spreadsheet does when it reads "1.290" as the decimal 1.29 and drops the zeros: in a
    count, a '.' followed by one or two digits can only be a thousands group that lost
    its trailing zeros ("1.29" = 1290, "1.3" = 1300). Anything not whole is an error.
    """
    text = str(raw).strip() if raw is not None else ""
    if _LOST_ZEROS.match(text):
        head, tail = text.split(".")
        text = f"{head}.{tail.ljust(3, '0')}"
    value = parse_number(text)
    if value is None:
        return None
    if value != int(value) or value < 0:
        raise ParseError(
            f"'{raw}' không phải là số đếm (số nguyên không âm)", f"'{raw}' is not a count"
        )
    return int(value)


def parse_period(raw: object) -> str:
    """Return a reporting month as 'YYYY-MM' from '06/2025', 'T6/2025', '2025-06' or a date."""
    if isinstance(raw, datetime | date):
        return f"{raw.year:04d}-{raw.month:02d}"
    text = str(raw or "").strip()
    match = _PERIOD_ISO.match(text)
    if match:
        year, month = int(match[1]), int(match[2])
    else:
        match = _PERIOD_VN.match(text)
        if not match:
            raise ParseError(
                f"kỳ báo cáo '{text}' không đúng dạng MM/YYYY",
                f"period '{text}' is not in the form MM/YYYY",
            )
        month, year = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ParseError(
            f"kỳ báo cáo '{text}' không hợp lệ", f"period '{text}' is not a valid month"
        )
    return f"{year:04d}-{month:02d}"


def parse_date(raw: object) -> date | None:
    """Read a date written dd/mm/yyyy, yyyy-mm-dd, as an Excel serial, or a datetime."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 100000:
        return _EXCEL_EPOCH + timedelta(days=int(raw))
    text = str(raw).strip()
    try:
        match = _DATE_VN.match(text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        match = _DATE_ISO.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise ParseError(
        f"'{text}' không phải là ngày dd/mm/yyyy", f"'{text}' is not a dd/mm/yyyy date"
    )


def normalize_label(raw: object) -> str:
    """Fold a heading for matching: lowercase, no accents, no English gloss in brackets."""
    text = str(raw or "").split("(")[0].strip().lower().replace("đ", "d")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()
