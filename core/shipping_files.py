"""Spreadsheets in and out of the to-ship queue: read an uploaded CSV or XLSX into rows,
write the queue as CSV (UTF-8 with a BOM, so Excel shows Chinese) or XLSX.

Files are checked before they are parsed: size, type by content (an old ``.xls`` is
refused with a way out), the unpacked size of an XLSX (a zip), and the number of rows.
Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are written
as text, so an address typed by a shopper can never become one.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any, Iterable, Sequence

from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_UNPACKED = 40 * 1024 * 1024
MAX_CELL = 200
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OLE = b"\xd0\xcf\x11\xe0"  # an Excel 97-2003 .xls
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _refuse(message) -> ValidationError:
    return ValidationError(message, fields={"file": message})


def read_rows(filename: str, data: bytes) -> list[tuple[int, list[str]]]:
    """``[(line number, cells)]`` of a CSV or XLSX file, blank rows left out; line numbers
    count from 1 as the spreadsheet shows them. ``ValidationError`` (field ``file``) for a
    file that is too big, of another type, unreadable, or with too many rows."""
    name = (filename or "").lower()
    if not data:
        raise _refuse(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise _refuse(_l("The file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024)))
    if data.startswith(OLE) or name.endswith(".xls"):
        raise _refuse(_l("Old Excel files (.xls) are not read: save it as .xlsx or .csv."))
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(data)
    else:
        raise _refuse(_l("Upload a .csv or .xlsx file."))
    found = [(number, cells) for number, cells in rows if any(cells)]
    if len(found) > MAX_ROWS + 1:  # + a header row
        raise _refuse(_l("At most %(n)d rows per file: split it.", n=MAX_ROWS))
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a tracking number Excel stored as a number
    if isinstance(value, datetime):
        value = value.isoformat(sep=" ")
    return "".join(ch for ch in str(value) if ch.isprintable()).strip()[:MAX_CELL]


def _csv_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _refuse(_l("The file is not readable text: save it as CSV (UTF-8)."))
    if "\x00" in text:
        raise _refuse(_l("The file is not readable text: save it as CSV (UTF-8)."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for index, row in enumerate(reader):
            if index > MAX_ROWS * 2:
                raise _refuse(_l("At most %(n)d rows per file: split it.", n=MAX_ROWS))
            yield reader.line_num, [_text(cell) for cell in row[:20]]
    except csv.Error as exc:
        raise _refuse(_l("The CSV file could not be read: %(error)s", error=str(exc)[:100])) from None


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise _refuse(_l("The spreadsheet is too large once unpacked."))
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - any broken zip or XML is the same answer to the user
        raise _refuse(_l("The spreadsheet could not be read: save it again as .xlsx.")) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        rows = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS * 2:
                raise _refuse(_l("At most %(n)d rows per file: split it.", n=MAX_ROWS))
            rows.append((number, [_text(cell) for cell in row[:20]]))
        return rows
    finally:
        book.close()


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([str(h) for h in headers])
    for row in rows:
        writer.writerow([_safe("" if v is None else str(v)) for v in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Orders") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([str(h) for h in headers])
    for row in rows:
        sheet.append(["" if v is None else str(v) for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = TYPE_STRING  # text, never a formula
    for column, width in zip("ABCDEFGHIJKLMN", (18, 18, 10, 12, 16, 10, 10, 10, 36, 40, 14, 20)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
