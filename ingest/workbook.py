"""Spreadsheets as units send them: .xlsx, .xls, .xlsb, .ods and .csv, read safely.

What a file is comes from its bytes, never from its name alone: an .xls saved under an
.xlsx name is read as the .xls it is (with a warning), an encrypted workbook, a PDF or a
Word document are refused with a message that says what to do. Before anything is parsed
the file's size, a zip's expanded size, macros and links to other workbooks are checked;
formulas are never evaluated (their saved values are read, and a formula saved without
one is reported as such).

Cells are read with python-calamine (one reader, in Rust, for every workbook format).
It gives values only, so what a value means beyond itself is read here from the file:
which cells are formatted as a percentage (Excel stores 0.15 for the 15 % a clerk sees),
which hold a formula with no saved value, which an Excel error (#DIV/0!). Entry point:
:func:`read_workbook`.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from xml.etree import ElementTree

from ingest.parsing import ParseError

# file suffix -> the format a file with that name should hold
SUFFIX_FORMATS = {".xlsx": "xlsx", ".xls": "xls", ".xlsb": "xlsb", ".ods": "ods", ".csv": "csv"}
FORMAT_NAMES = {
    "xlsx": "Excel .xlsx",
    "xls": "Excel 97–2003 .xls",
    "xlsb": "Excel nhị phân/binary .xlsb",
    "ods": "OpenDocument .ods (LibreOffice)",
    "csv": "CSV",
}
MAX_CSV_LINE = 10_000  # characters: a report row is a few hundred
MAX_ZIP_ENTRIES = 2_000
MAX_SHEET_CELLS = 2_000_000  # a report is a few hundred; a sheet to XFD1048576 is 17 billion
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_CFB = bytes.fromhex("d0cf11e0a1b11ae1")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True)
class CellFacts:
    """What a sheet's cells mean beyond their values, by 0-based (row, column).

    ``known`` is False where the format's reader here cannot tell (xlsb): a value that may
    be a percentage is then not guessed at."""

    percent: frozenset[tuple[int, int]] = frozenset()
    formula_without_value: frozenset[tuple[int, int]] = frozenset()
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    known: bool = True
    # the last (row, column) holding something, read from the file before calamine lays the
    # sheet out as a dense grid (a stray value in XFD1048576 would ask it for 17 billion
    # cells and abort the process); None where not read (xlsb)
    extent: tuple[int, int] | None = None


@dataclass(frozen=True)
class Sheet:
    name: str | None  # None for a CSV file
    rows: list[list[object]]
    visible: bool = True
    facts: CellFacts = CellFacts()


@dataclass
class Workbook:
    file_format: str  # what the bytes are (xlsx, xls, xlsb, ods, csv)
    sheets: list[Sheet]
    warnings: list[ParseError] = field(default_factory=list)


def refuse(vi: str, en: str) -> ParseError:
    return ParseError(vi, en)


def check_name(file_name: str) -> str:
    """The format a file's name says it holds; an error for a name or type never read."""
    if any(ch in file_name for ch in "/\\") or any(
        ord(ch) < 32 or ord(ch) == 127 for ch in file_name
    ):
        raise refuse(
            "tên tệp chứa đường dẫn hoặc ký tự điều khiển; hãy đặt lại tên tệp",
            "the file name has path components or control characters; rename the file",
        )
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xlsm":
        raise refuse(
            "tệp .xlsm chứa macro, không được nhận; hãy lưu lại dưới dạng .xlsx",
            "an .xlsm file holds macros and is not accepted; save it again as .xlsx",
        )
    if suffix not in SUFFIX_FORMATS:
        raise refuse(
            f"loại tệp '{suffix or '(không có đuôi)'}' không được hỗ trợ; hãy gửi tệp "
            f".xlsx, .xls, .xlsb, .ods hoặc .csv",
            f"file type '{suffix or '(none)'}' is not supported; send an .xlsx, .xls, "
            f".xlsb, .ods or .csv file",
        )
    return SUFFIX_FORMATS[suffix]


def _zip_format(data: bytes, max_expanded: int) -> tuple[str, zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refuse(
            "tệp bị hỏng (cấu trúc nén không đọc được); hãy mở tệp bằng Excel, lưu lại rồi gửi lại",
            "the file is damaged (its zip structure cannot be read); open it in Excel, save "
            "it again and resend it",
        ) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise refuse(
            f"tệp nén có {len(infos):,} mục (tối đa {MAX_ZIP_ENTRIES:,}): không phải mẫu báo cáo",
            f"the archive has {len(infos):,} entries (at most {MAX_ZIP_ENTRIES:,}): not a report",
        )
    expanded = sum(item.file_size for item in infos)
    if expanded > max_expanded:
        raise refuse(
            f"tệp giải nén ra {expanded:,} byte, vượt giới hạn {max_expanded:,}",
            f"the file expands to {expanded:,} bytes, over the limit of {max_expanded:,}",
        )
    names = set(archive.namelist())
    if "mimetype" in names and archive.read("mimetype").strip() == _ODS_MIME:
        return "ods", archive
    if "xl/workbook.bin" in names:
        return "xlsb", archive
    if "xl/workbook.xml" in names:
        return "xlsx", archive
    if "word/document.xml" in names or "mimetype" in names:
        raise refuse(
            "tệp là văn bản (Word/Writer), không phải bảng tính; hãy điền số liệu vào mẫu "
            "báo cáo Excel (chiso template) rồi gửi",
            "the file is a text document (Word/Writer), not a spreadsheet; fill in the Excel "
            "report template (chiso template) and send that",
        )
    raise refuse(
        "tệp nén (zip) nhưng không phải sổ tính; hãy gửi chính tệp báo cáo",
        "the file is a zip archive, not a workbook; send the report file itself",
    )


def _check_zip_contents(file_format: str, archive: zipfile.ZipFile) -> None:
    names = set(archive.namelist())
    if file_format in ("xlsx", "xlsb"):
        if any(name.startswith("xl/externalLinks/") for name in names):
            raise refuse(
                "tệp liên kết tới sổ tính khác (external links); hãy sao chép rồi dán giá "
                "trị (Paste Values) và lưu lại",
                "the workbook links to other workbooks (external links); copy and paste the "
                "values (Paste Values) and save it again",
            )
        if "xl/vbaProject.bin" in names:
            raise refuse(
                "tệp chứa macro (VBA); hãy lưu lại dưới dạng .xlsx (không có macro)",
                "the workbook contains macros (VBA); save it again as .xlsx (no macros)",
            )
        return
    if any(name.startswith(("Basic/", "Scripts/")) for name in names):
        raise refuse(
            "tệp .ods chứa macro; hãy lưu lại không có macro",
            "the .ods workbook contains macros; save it again without them",
        )
    content = archive.read("content.xml") if "content.xml" in names else b""
    if b"table:table-source" in content or b"table:dde-source" in content:
        raise refuse(
            "tệp liên kết tới tệp khác (liên kết ngoài); hãy dán giá trị rồi lưu lại",
            "the workbook links to other files (external links); paste the values and save "
            "it again",
        )


def _cfb_format(data: bytes) -> str:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError:
        raise refuse(
            "tệp bị hỏng (không đọc được cấu trúc tệp Office cũ); hãy mở bằng Excel, lưu lại "
            "dưới dạng .xlsx rồi gửi",
            "the file is damaged (its old Office structure cannot be read); open it in "
            "Excel, save it as .xlsx and resend it",
        ) from None
    try:
        streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    finally:
        ole.close()
    if "encryptioninfo" in streams or "encryptedpackage" in streams:
        raise _encrypted()
    if "worddocument" in streams:
        raise refuse(
            "tệp là văn bản Word (.doc), không phải bảng tính; hãy điền mẫu báo cáo Excel",
            "the file is a Word document (.doc), not a spreadsheet; fill in the Excel report "
            "template",
        )
    if "workbook" not in streams and "book" not in streams:
        raise refuse(
            "tệp Office cũ nhưng không phải sổ tính Excel; hãy gửi tệp báo cáo Excel",
            "an old Office file but not an Excel workbook; send the Excel report",
        )
    if any(name.startswith("_vba_project_cur") for name in streams):
        raise refuse(
            "tệp .xls chứa macro (VBA); hãy lưu lại dưới dạng .xlsx (không có macro)",
            "the .xls workbook contains macros (VBA); save it again as .xlsx (no macros)",
        )
    return "xls"


def _encrypted() -> ParseError:
    return refuse(
        "sổ tính được đặt mật khẩu (mã hóa) nên không đọc được; hãy gỡ mật khẩu (File > Info "
        "> Protect Workbook > Encrypt with Password, xóa mật khẩu), lưu lại rồi gửi",
        "the workbook is password-protected (encrypted) and cannot be read; remove the "
        "password (File > Info > Protect Workbook > Encrypt with Password, clear it), save "
        "and resend",
    )


def sniff(data: bytes, max_expanded: int) -> str:
    """What the bytes are: xlsx, xlsb, ods (checked as zips), xls (an OLE file), csv (text);
    an error saying what they are when they are no spreadsheet."""
    file_format, archive = _sniff(data, max_expanded)
    if archive is not None:
        archive.close()
    return file_format


def _sniff(data: bytes, max_expanded: int) -> tuple[str, zipfile.ZipFile | None]:
    """:func:`sniff`, and a zip's archive left open for its reader (opened once)."""
    if data.startswith(_ZIP):
        file_format, archive = _zip_format(data, max_expanded)
        try:
            _check_zip_contents(file_format, archive)
        except BaseException:
            archive.close()
            raise
        return file_format, archive
    if data.startswith(_CFB):
        return _cfb_format(data), None
    if data.startswith(b"%PDF"):
        raise refuse(
            "tệp là PDF (bản in hoặc bản quét); hãy gửi chính tệp Excel đã điền số liệu",
            "the file is a PDF (a print or a scan); send the filled-in Excel file itself",
        )
    if not data.strip():
        raise refuse("tệp rỗng (0 byte có nội dung)", "the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv", None  # Excel's "Unicode Text": UTF-16 with its byte-order mark
    head = data[:4096]
    if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
        raise refuse(
            "tệp là văn bản UTF-16 không có BOM; hãy lưu lại dưới dạng CSV UTF-8",
            "the file is UTF-16 text without a byte-order mark; save it again as CSV UTF-8",
        )
    if b"\x00" in head:
        raise refuse(
            "tệp không phải bảng tính hay CSV; hãy gửi tệp báo cáo theo mẫu",
            "the file is neither a spreadsheet nor a CSV; send the report on the template",
        )
    return "csv", None


def read_workbook(
    path: Path,
    file_name: str,
    max_bytes: int,
    max_expanded: int,
    recognised: Callable[[list[list[object]]], bool] = bool,
    data: bytes | None = None,
) -> Workbook:
    """Every sheet of a report file, with its cell facts; raises :class:`ParseError`
    (both languages) for a file that must not or cannot be read. ``recognised`` tells a
    CSV's delimiter: the first of ';', ',', tab whose rows it accepts. ``data``: the
    file's bytes, when the caller has read them (and hashed or kept these very bytes)."""
    named = check_name(file_name)
    size = path.stat().st_size if data is None else len(data)
    if size > max_bytes:
        raise refuse(
            f"tệp quá lớn ({size:,} byte, tối đa {max_bytes:,})",
            f"the file is too large ({size:,} bytes, at most {max_bytes:,})",
        )
    data = path.read_bytes() if data is None else data
    actual, archive = _sniff(data, max_expanded)
    try:
        sheets = (
            [_read_csv(data, recognised)]
            if actual == "csv"
            else _read_sheets(data, actual, archive)
        )
    finally:
        if archive is not None:
            archive.close()
    warnings = []
    if actual != named:
        warnings.append(
            refuse(
                f"tệp mang đuôi của {FORMAT_NAMES[named]} nhưng thực chất là "
                f"{FORMAT_NAMES[actual]}; đã đọc theo nội dung — lần sau hãy lưu đúng loại tệp",
                f"the file is named as {FORMAT_NAMES[named]} but is {FORMAT_NAMES[actual]}; "
                f"it was read as what it is — next time save it with its own extension",
            )
        )
    return Workbook(actual, sheets, warnings)


def _cell_text(value: object) -> object:
    if isinstance(value, str) and not value.isascii():  # ASCII is NFC already
        return unicodedata.normalize("NFC", value)
    return value


def _read_sheets(data: bytes, file_format: str, archive: zipfile.ZipFile | None) -> list[Sheet]:
    import python_calamine

    try:  # read first: a sheet's extent is checked before calamine lays it out
        found = _FACTS[file_format](data, archive) if file_format in _FACTS else {}
        facts = {unicodedata.normalize("NFC", name): value for name, value in found.items()}
    except ParseError:
        raise
    except Exception as exc:  # a damaged part (styles, a sheet's XML, BIFF records)
        raise refuse(
            f"không đọc được định dạng các ô của sổ tính ({type(exc).__name__}); hãy mở "
            f"bằng Excel, lưu lại rồi gửi lại",
            f"the workbook's cell formats cannot be read ({type(exc).__name__}); open it in "
            f"Excel, save it again and resend it",
        ) from None
    for name, sheet_facts in facts.items():
        if sheet_facts.extent is not None:
            _check_extent(name, *sheet_facts.extent)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise _encrypted() from None
    except Exception as exc:  # a damaged workbook: calamine raises several kinds
        raise refuse(
            f"không đọc được sổ tính ({exc}); hãy mở bằng Excel, lưu lại rồi gửi lại",
            f"the workbook cannot be read ({exc}); open it in Excel, save it again and resend",
        ) from None
    sheets = []
    try:
        for meta in workbook.sheets_metadata:
            if str(meta.typ) != str(python_calamine.SheetTypeEnum.WorkSheet):
                continue
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
                _check_extent(meta.name, *(sheet.end or (0, 0)))  # xlsb: not read before
                rows = sheet.to_python(skip_empty_area=False)
            except ParseError:
                raise
            except Exception as exc:
                raise refuse(
                    f"không đọc được trang '{meta.name}' ({exc}); hãy lưu lại tệp rồi gửi lại",
                    f"sheet '{meta.name}' cannot be read ({exc}); save the file again and "
                    f"resend it",
                ) from None
            sheets.append(
                Sheet(
                    name=unicodedata.normalize("NFC", meta.name),
                    rows=[[_cell_text(value) for value in row] for row in rows],
                    visible=str(meta.visible) == str(python_calamine.SheetVisibleEnum.Visible),
                    facts=facts.get(
                        unicodedata.normalize("NFC", meta.name),
                        CellFacts(known=file_format != "xlsb"),
                    ),
                )
            )
    finally:
        workbook.close()
    return sheets


def _read_csv(data: bytes, recognised: Callable[[list[list[object]]], bool]) -> Sheet:
    try:
        text = data.decode("utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(
            f"tệp không ở dạng UTF-8 (byte {exc.start}); hãy lưu lại dưới dạng CSV UTF-8",
            f"the file is not UTF-8 (byte {exc.start}); save it again as CSV UTF-8",
        ) from None
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > MAX_CSV_LINE:
        raise refuse(
            f"tệp có một dòng dài {longest:,} ký tự (tối đa {MAX_CSV_LINE:,}): không phải "
            f"mẫu báo cáo",
            f"the file has a line of {longest:,} characters (at most "
            f"{MAX_CSV_LINE:,}): not a report",
        )
    text = unicodedata.normalize("NFC", text)
    # the first delimiter whose split the layout recognises, ';' first (Excel writes it in
    # Vietnamese locales); else the first split, for the layout's own error message
    first: list[list[object]] | None = None
    for delimiter in (";", ",", "\t"):
        try:
            rows: list[list[object]] = [
                list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            ]
        except csv.Error as exc:
            raise refuse(
                f"tệp CSV không đọc được ({exc}); hãy lưu lại từ Excel dưới dạng CSV UTF-8",
                f"the CSV file cannot be read ({exc}); save it again from Excel as CSV UTF-8",
            ) from None
        if recognised(rows):
            return Sheet(None, rows)
        first = first if first is not None else rows
    return Sheet(None, first or [])


# -- cell facts, per format ----------------------------------------------------------------

_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_SSML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _position(ref: str) -> tuple[int, int] | None:
    match = _CELL_REF.match(ref)
    if not match:
        return None
    col = 0
    for letter in match[1]:
        col = col * 26 + ord(letter) - 64
    return int(match[2]) - 1, col - 1


def _check_extent(name: str, last_row: int, last_col: int) -> None:
    if (last_row + 1) * (last_col + 1) > MAX_SHEET_CELLS:
        raise refuse(
            f"trang '{name}' kéo dài tới ô {column_letter(last_col)}{last_row + 1} (quá "
            f"{MAX_SHEET_CELLS:,} ô); hãy xóa các dòng, cột thừa ngoài bảng rồi lưu lại",
            f"sheet '{name}' reaches cell {column_letter(last_col)}{last_row + 1} (over "
            f"{MAX_SHEET_CELLS:,} cells); delete the rows and columns past the table and save "
            f"it again",
        )


@cache  # asked for every cell a report names
def column_letter(index: int) -> str:
    """The letters of a 0-based column index: 0 -> A, 16383 -> XFD."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def is_percent_format(code: str) -> bool:
    """A number format shows a percentage when it has '%' outside quotes and escapes."""
    code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in code


def _xlsx_facts(data: bytes, archive: zipfile.ZipFile | None) -> dict[str, CellFacts]:
    assert archive is not None
    names = set(archive.namelist())
    rels_name = "xl/_rels/workbook.xml.rels"
    percent_styles, sheets = _xlsx_layout(
        archive.read("xl/styles.xml") if "xl/styles.xml" in names else b"",
        archive.read("xl/workbook.xml"),
        archive.read(rels_name) if rels_name in names else b"",
    )
    out: dict[str, CellFacts] = {}
    for name, part in sheets:
        if part not in names:
            continue
        xml = archive.read(part)
        extent = _xlsx_extent(xml)
        if not percent_styles and b"<f" not in xml and b't="e"' not in xml:
            out[name] = CellFacts(extent=extent)
            continue
        facts = _xlsx_sheet_facts(xml, percent_styles)
        out[name] = CellFacts(
            facts.percent, facts.formula_without_value, facts.errors, extent=extent
        )
    return out


@lru_cache(maxsize=16)
def _xlsx_layout(
    styles_xml: bytes, workbook_xml: bytes, rels_xml: bytes
) -> tuple[frozenset[int], tuple[tuple[str, str], ...]]:
    """The cell styles that show '%', and each sheet's name and part, from a workbook's
    styles, workbook and relationships XML. Files made from one template share these
    bytes, so they are parsed once per template, not once per file."""
    percent_styles: set[int] = set()
    if styles_xml:
        styles = ElementTree.fromstring(styles_xml)
        custom = {
            int(fmt.get("numFmtId", -1)): fmt.get("formatCode", "")
            for fmt in styles.iter(f"{_SSML}numFmt")
        }
        cell_xfs = styles.find(f"{_SSML}cellXfs")
        for index, xf in enumerate(cell_xfs if cell_xfs is not None else []):
            fmt_id = int(xf.get("numFmtId", 0))
            if fmt_id in (9, 10) or is_percent_format(custom.get(fmt_id, "")):
                percent_styles.add(index)
    book = ElementTree.fromstring(workbook_xml)
    rels = ElementTree.fromstring(rels_xml) if rels_xml else None
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in (rels.iter(f"{_PKG_REL}Relationship") if rels is not None else [])
    }
    sheets = []
    for sheet in book.iter(f"{_SSML}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        sheets.append((sheet.get("name"), part))
    return frozenset(percent_styles), tuple(sheets)


_CELL_REF_BYTES = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d{1,7})"')


def _xlsx_extent(xml: bytes) -> tuple[int, int]:
    """The last row and column any cell of a sheet's XML names (a fast scan of its bytes)."""
    last_row = last_col = 0
    for letters, digits in _CELL_REF_BYTES.findall(xml):
        col = 0
        for letter in letters:
            col = col * 26 + letter - 64
        last_row, last_col = max(last_row, int(digits) - 1), max(last_col, col - 1)
    return last_row, last_col


def _xlsx_sheet_facts(xml: bytes, percent_styles: set[int]) -> CellFacts:
    percent, no_value, errors = set(), set(), {}
    for cell in ElementTree.fromstring(xml).iter(f"{_SSML}c"):
        where = _position(cell.get("r", ""))
        if where is None:
            continue
        if int(cell.get("s", 0)) in percent_styles:
            percent.add(where)
        value = cell.find(f"{_SSML}v")
        if cell.find(f"{_SSML}f") is not None and (value is None or not (value.text or "")):
            no_value.add(where)
        elif cell.get("t") == "e":
            errors[where] = value.text if value is not None and value.text else "#ERROR"
    return CellFacts(frozenset(percent), frozenset(no_value), errors)


_ODS = {
    "table": "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}",
    "office": "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}",
}


def _ods_facts(data: bytes, archive: zipfile.ZipFile | None) -> dict[str, CellFacts]:
    table, office = _ODS["table"], _ODS["office"]
    assert archive is not None
    root = ElementTree.fromstring(archive.read("content.xml"))
    out: dict[str, CellFacts] = {}
    for sheet in root.iter(f"{table}table"):
        percent, no_value, errors = set(), set(), {}
        last_row = last_col = 0
        row_index = 0
        for row in sheet.iter(f"{table}table-row"):
            rows_repeated = int(row.get(f"{table}number-rows-repeated", 1))
            col_index = 0
            for cell in row:
                if cell.tag not in (f"{table}table-cell", f"{table}covered-table-cell"):
                    continue
                repeated = int(cell.get(f"{table}number-columns-repeated", 1))
                kind = cell.get(f"{office}value-type")
                formula = cell.get(f"{table}formula")
                if kind or formula or len(cell):  # a value, a formula or text
                    last_row = max(last_row, row_index + rows_repeated - 1)
                    last_col = max(last_col, col_index + repeated - 1)
                for r in range(row_index, row_index + min(rows_repeated, 100)):
                    for c in range(col_index, col_index + min(repeated, 64)):
                        if kind == "percentage":
                            percent.add((r, c))
                        if formula and kind is None:
                            no_value.add((r, c))
                        elif formula and "".join(cell.itertext()).startswith(("#", "Err:")):
                            errors[(r, c)] = "".join(cell.itertext())
                col_index += repeated
            row_index += rows_repeated
        out[sheet.get(f"{table}name")] = CellFacts(
            frozenset(percent), frozenset(no_value), errors, extent=(last_row, last_col)
        )
    return out


def _xls_facts(data: bytes, archive: zipfile.ZipFile | None) -> dict[str, CellFacts]:
    """Percent-formatted cells of an .xls (BIFF8): its FORMAT and XF records say which
    cell styles show '%', and each number cell names its style; and each sheet's extent.
    Formulas in an .xls always keep their saved value (Excel writes it), so only
    percentages are looked for here."""
    import olefile

    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        stream = "Workbook" if ole.exists("Workbook") else "Book"
        biff = ole.openstream(stream).read()
    formats: dict[int, str] = {}
    xf_formats: list[int] = []
    sheets: list[tuple[int, str]] = []
    pos = 0
    while pos + 4 <= len(biff):
        kind, length = struct.unpack_from("<HH", biff, pos)
        body = biff[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if kind == 0x041E and len(body) >= 5:  # FORMAT
            fmt_id, count, flags = struct.unpack_from("<HHB", body)
            raw = body[5 : 5 + count * (2 if flags & 1 else 1)]
            formats[fmt_id] = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
        elif kind == 0x00E0 and len(body) >= 4:  # XF
            xf_formats.append(struct.unpack_from("<H", body, 2)[0])
        elif kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET8: where a sheet's records start
            offset, count, flags = struct.unpack_from("<I2xBB", body)
            raw = body[8 : 8 + count * (2 if flags & 1 else 1)]
            sheets.append((offset, raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")))
        elif kind == 0x000A and sheets:  # EOF of the globals, the sheets follow
            break
    percent_xf = {
        index
        for index, fmt_id in enumerate(xf_formats)
        if fmt_id in (9, 10) or is_percent_format(formats.get(fmt_id, ""))
    }
    out: dict[str, CellFacts] = {}
    for offset, name in sheets:
        percent = set()
        last_row = last_col = 0
        pos = offset
        while pos + 4 <= len(biff):
            kind, length = struct.unpack_from("<HH", biff, pos)
            body = biff[pos + 4 : pos + 4 + length]
            pos += 4 + length
            if kind == 0x000A:  # EOF of this sheet
                break
            # NUMBER, RK, FORMULA, LABELSST, LABEL, BOOLERR, RSTRING: one cell each
            if kind in (0x0203, 0x027E, 0x0006, 0x00FD, 0x0204, 0x0205, 0x00D6) and len(body) >= 6:
                row, col, xf = struct.unpack_from("<HHH", body)
                last_row, last_col = max(last_row, row), max(last_col, col)
                if xf in percent_xf and kind in (0x0203, 0x027E, 0x0006):
                    percent.add((row, col))
            elif kind == 0x00BD and len(body) >= 6:  # MULRK: several RK cells in a row
                row, first = struct.unpack_from("<HH", body)
                count = (len(body) - 6) // 6
                last_row, last_col = max(last_row, row), max(last_col, first + count - 1)
                for index in range(count):
                    if struct.unpack_from("<H", body, 4 + 6 * index)[0] in percent_xf:
                        percent.add((row, first + index))
        out[unicodedata.normalize("NFC", name)] = CellFacts(
            frozenset(percent), extent=(last_row, last_col)
        )
    return out


_FACTS = {"xlsx": _xlsx_facts, "ods": _ods_facts, "xls": _xls_facts}
