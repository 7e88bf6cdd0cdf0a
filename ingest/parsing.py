"""Shared parsing of the values Vietnamese report files and portal exports contain.

One place for numbers ("1.234,5", "85,5%"), periods ("06/2025", "2025-06") and dates
("05/07/2025", Excel serials), so no source re-implements them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

from warehouse.errors import BilingualError

_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}$")
_PERIOD_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_PERIOD_VN = re.compile(r"^(?:t(?:hang|háng)?\s*)?(\d{1,2})\s*[/.-]\s*(\d{4})$", re.IGNORECASE)
_PERIOD_WORDS = re.compile(r"^(?:thang|t)\s*(\d{1,2})\s*(?:nam)\s*(\d{4})$")  # tháng 6 năm 2025
_DATE_VN = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


class ParseError(BilingualError):
    """A value that cannot be read, said in Vietnamese and English (``.message``)."""


# Characters a cell can hold that look like nothing, or like a plain space: a number or a
# code holding one is not what it seems, and the message shows them by name.
_INVISIBLE = {
    "\u200b": "ZERO WIDTH SPACE",
    "\u200c": "ZERO WIDTH NON-JOINER",
    "\u200d": "ZERO WIDTH JOINER",
    "\u2060": "WORD JOINER",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE (BOM)",
    "\u00ad": "SOFT HYPHEN",
}
# spaces that group thousands ("1 234"): the plain one and the no-break ones spreadsheets
# and word processors put there
_GROUP_SPACES = " \u00a0\u202f\u2009"
_SPACE_GROUPED = re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f\u2009]\d{3})+([.,]\d+)?$")
MAX_FIGURE = 1e15  # past this a float no longer holds every whole number: not a report figure


def reveal(text: str) -> str:
    """``text`` quoted, with every character a reader cannot see written by name:
    ``'20.SNV⟨U+200B ZERO WIDTH SPACE⟩'``. Decomposed accents (NFD) are shown as such."""
    out = []
    for ch in str(text):
        name = _INVISIBLE.get(ch)
        if name is None and unicodedata.combining(ch):
            name = unicodedata.name(ch, "COMBINING MARK")
        if name is None and ch in "\u00a0\u202f\u2009":
            name = unicodedata.name(ch)
        if name is None and unicodedata.category(ch) in ("Cc", "Cf"):
            name = unicodedata.name(ch, "CONTROL CHARACTER")
        out.append(f"⟨U+{ord(ch):04X} {name}⟩" if name else ch)
    return "'" + "".join(out) + "'"


def hidden_characters(text: str) -> list[str]:
    """The invisible or decomposed characters in ``text`` (empty: it is what it looks like)."""
    if text.isascii() and text.isprintable():  # most cells: nothing to look for
        return []
    return [
        ch
        for ch in text
        if ch in _INVISIBLE or unicodedata.combining(ch) or unicodedata.category(ch) in ("Cc", "Cf")
    ]


def _hidden_error(text: str) -> ParseError:
    shown = reveal(text)
    return ParseError(
        f"ô chứa ký tự ẩn hoặc dấu tách rời: {shown}; hãy xóa ô và gõ lại giá trị",
        f"the cell holds hidden or decomposed characters: {shown}; clear the cell and type "
        f"the value again",
    )


def _not_a_number(raw: object) -> ParseError:
    shown = reveal(str(raw))
    return ParseError(f"{shown} không phải là số", f"{shown} is not a number")


def _too_large(raw: object) -> ParseError:
    return ParseError(
        f"số '{raw}' quá lớn (tối đa {MAX_FIGURE:.0e}): không phải số liệu báo cáo",
        f"the number '{raw}' is too large (at most {MAX_FIGURE:.0e}): not a report figure",
    )


def _checked(number: float, raw: object) -> float:
    if not math.isfinite(number):  # "inf", "NaN": float() reads them, no report means them
        raise _not_a_number(raw)
    if abs(number) > MAX_FIGURE:
        raise _too_large(raw)
    return number


def _number_text(raw: object) -> str:
    """A cell's text ready to read as a number: NFC, trimmed; hidden characters refused."""
    text = unicodedata.normalize("NFC", str(raw)).strip()
    if hidden_characters(text):
        raise _hidden_error(text)
    if any(ch in text for ch in _GROUP_SPACES):
        if not _SPACE_GROUPED.match(text):
            raise _not_a_number(raw)
        for ch in _GROUP_SPACES:
            text = text.replace(ch, "")
    return text


def parse_number(raw: object, decimal_point: bool = False) -> float | None:
    """Read a number as Vietnamese files write it; ``None`` for an empty cell.

    ``decimal_point=True`` is for exports written by tools in the English convention
    ("0.800" = 0.8, "1,234.5" = 1234.5): '.' is then always the decimal point.

    Vietnamese convention: '.' groups thousands, ',' marks decimals ("1.234,5" = 1234.5).
    A lone '.' is a decimal point unless it groups exactly three digits ("1.234" = 1234);
    a lone ',' is a decimal comma unless it groups thousands twice or more ("1,234,567").
    Spaces group thousands only in threes ("1 234"). A trailing '%' is dropped: the number
    is read in percent units ("85,5%" = 85.5). Hidden characters, infinities and numbers
    past :data:`MAX_FIGURE` are errors.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise _not_a_number(raw)
    if isinstance(raw, int | float):
        return _checked(float(raw), raw)
    text = _number_text(raw)
    if text in ("", "-"):
        return None
    if text.endswith("%"):
        text = text[:-1].rstrip()
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
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise _not_a_number(raw)
    return _checked(float(text), raw)


_LOST_ZEROS = re.compile(r"^\d{1,3}\.\d{1,2}$")
_WHOLE = re.compile(r"^[+-]?\d+$")
_AMBIGUOUS_COMMA = re.compile(r"^[+-]?\d{1,3},\d{3}$")


def parse_count(raw: object, lost_zeros: bool = False) -> int | None:
    """Read a count: a whole number, not negative; ``None`` for an empty cell.

    Grouped thousands are read ("1.234", "1 234", "1,234,567"); a decimal ("12,5"), a
    percentage, a negative number and "1,234" are errors. "1,234" is ambiguous in a count
    cell: 1234 with an English thousands comma, or 1,234 with the Vietnamese decimal comma,
    and the message says both readings.

    ``lost_zeros=True`` is for portal exports a spreadsheet has damaged: it read "1.290"
    as the decimal 1.29 and dropped the zeros, so in a count a '.' followed by one or two
    digits can only be a thousands group that lost them ("1.29" = 1290, "1.3" = 1300).
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise _not_a_number(raw)
    if isinstance(raw, int | float):
        number = _checked(float(raw), raw)
        shown = f"{raw:g}" if isinstance(raw, float) else str(raw)
    else:
        text = _number_text(raw)
        if text in ("", "-"):
            return None
        if text.endswith("%"):
            raise ParseError(
                f"'{raw}' là tỷ lệ phần trăm, ô này cần số đếm (số nguyên không âm)",
                f"'{raw}' is a percentage; this cell needs a count (a whole number, not negative)",
            )
        if _AMBIGUOUS_COMMA.match(text):
            whole = int(text.replace(",", ""))
            raise ParseError(
                f"'{raw}' không rõ nghĩa: là {whole} (dấu phẩy ngăn cách hàng nghìn kiểu Anh) "
                f"hay {text} (dấu phẩy thập phân kiểu Việt Nam)? Số đếm phải là số nguyên: "
                f"nếu là {whole}, hãy ghi {whole} hoặc {text.replace(',', '.')}",
                f"'{raw}' is ambiguous: {whole} (a comma grouping thousands) or "
                f"{text.replace(',', '.')} (a decimal comma)? A count is a whole number: if "
                f"you mean {whole}, write {whole}",
            )
        if lost_zeros and _LOST_ZEROS.match(text):
            head, tail = text.split(".")
            text = f"{head}.{tail.ljust(3, '0')}"
        shown = str(raw)
        if _WHOLE.match(text) or _THOUSANDS_DOT.match(text) or _THOUSANDS_COMMA.match(text):
            number = _checked(float(re.sub(r"[.,]", "", text)), raw)
        else:
            number = parse_number(text)
            if number is None:
                return None
    if number < 0:
        raise ParseError(
            f"số âm {shown} không hợp lệ: số đếm không âm",
            f"negative number {shown} is not allowed: a count is not negative",
        )
    if number != int(number):
        raise _not_whole(shown)
    return int(number)


def _not_whole(shown: str) -> ParseError:
    return ParseError(
        f"'{shown}' không phải là số nguyên: ô này cần số đếm (vd. số hồ sơ), không có phần "
        f"thập phân",
        f"'{shown}' is not a whole number: this cell needs a count (e.g. of records), with "
        f"no decimals",
    )


def parse_period(raw: object) -> str:
    """Return a reporting month as 'YYYY-MM' from '06/2025', 'T6/2025', 'Tháng 6 năm 2025',
    '2025-06' or a date."""
    if isinstance(raw, datetime | date):
        return f"{raw.year:04d}-{raw.month:02d}"
    text = unicodedata.normalize("NFC", str(raw or "")).strip()
    match = _PERIOD_ISO.match(text)
    if match:
        year, month = int(match[1]), int(match[2])
    else:
        match = _PERIOD_VN.match(text) or _PERIOD_WORDS.match(normalize_label(text))
        if not match or hidden_characters(text):
            shown = reveal(text)
            raise ParseError(
                f"kỳ báo cáo {shown} không đúng dạng MM/YYYY",
                f"period {shown} is not in the form MM/YYYY",
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
    return _normalized(raw if isinstance(raw, str) else str(raw or ""))


@lru_cache(maxsize=8192)  # the same headings and labels come back in every file
def _normalized(text: str) -> str:
    text = text.split("(")[0].strip().lower().replace("đ", "d")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()
