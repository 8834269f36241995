"""Writing tables to CSV and XLSX so that no cell of user text is ever run as a formula.

Every export of the app (leaderboards, prize and advancement lists, the audit log, initial
passwords, the CLI) goes through `write_csv` or `write_xlsx`, so the rule lives here only.

The rule, after OWASP's "CSV Injection" guidance: a text cell that begins with `=`, `+`, `-`,
`@`, a tab or a carriage return would be read by Excel or LibreOffice as a formula (a
`=HYPERLINK(…)` name becomes a link; `@SUM(…)` or `=cmd|…` worse). Such text is written
as text:
- CSV has no types, so the cell gets a leading single quote (`'=HYPERLINK(…)`), which the
  spreadsheet shows as text; every text cell is also quoted, so a separator inside a name
  cannot start a new cell in locales that split on `;`.
- XLSX cells are typed: the cell is an explicit string (never openpyxl's formula type, which
  it picks for any text starting with `=`) and carries Excel's own quote-prefix flag, the
  flag Excel sets when someone types `'=…`, so editing the cell later does not turn it into
  a formula either. The text itself is unchanged, so a name reads back exactly as entered.
Numbers (int, float) stay numbers in both formats; a float with no fraction is written as a
whole number (90, not 90.0). Control characters that XLSX cannot hold are dropped.
"""
from __future__ import annotations

import csv
import re
from numbers import Number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 cannot carry these; openpyxl would raise on them (tab, LF and CR are allowed).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def needs_escape(value) -> bool:
    """True for text that a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def plain_number(value):
    """The number to write: an integral float becomes an int (90, not 90.0); others unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_number(value) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def csv_cell(value):
    """One CSV cell: numbers as numbers, None as empty, text escaped if it could be a formula."""
    if value is None:
        return ""
    if _is_number(value):
        return plain_number(value)
    text = "是" if value is True else "否" if value is False else str(value)
    return "'" + text if needs_escape(text) else text


def write_csv(path_or_stream, headers: list[str], rows, encoding: str = "utf-8-sig") -> None:
    """UTF-8 with BOM (so Excel on Windows shows the Chinese text), every text cell quoted.
    `path_or_stream` is a path (opened with `encoding`) or a text stream (the BOM is written to it)."""
    if not hasattr(path_or_stream, "write"):
        with open(path_or_stream, "w", encoding=encoding, newline="") as handle:
            return _write_csv_rows(handle, headers, rows)
    path_or_stream.write("\ufeff")
    return _write_csv_rows(path_or_stream, headers, rows)


def _write_csv_rows(handle, headers, rows) -> None:
    writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([csv_cell(h) for h in headers])
    writer.writerows([csv_cell(value) for value in row] for row in rows)


def xlsx_cell(sheet, value, font=None):
    """One write-only XLSX cell: numbers as numbers, text always typed as a string."""
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        cell = WriteOnlyCell(sheet, value=None)
    elif _is_number(value):
        cell = WriteOnlyCell(sheet, value=plain_number(value))
    else:
        text = "是" if value is True else "否" if value is False else str(value)
        text = _ILLEGAL_XML.sub("", text)
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = text
        cell.data_type = "s"  # set after the value: openpyxl would have typed "=…" as a formula
        if needs_escape(text):
            cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def write_xlsx(path_or_stream, title: str, headers: list[str], rows, widths: list[int] | None = None) -> None:
    """A streaming (write-only) workbook of one sheet: bold headers, column widths, header row frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_SHEET_TITLE_FORBIDDEN.sub("-", title)[:31] or "Sheet1")
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([xlsx_cell(sheet, text, bold) for text in headers])
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    workbook.save(path_or_stream)
