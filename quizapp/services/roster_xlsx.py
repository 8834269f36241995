"""Reading the values of an XLSX workbook's first sheet, streamed from its XML (for rosters,
quizapp.services.rosters, which checks the archive's size before calling this)."""
from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree.ElementTree import fromstring, iterparse

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_COLUMN = re.compile(r"[A-Z]+")


def sheet_rows(path: Path, max_columns: int):
    """(row number, [cell values]) of the workbook's first sheet, streamed from its XML.

    Why not openpyxl: building its cell and rich-text objects made a 48,000-row roster take
    over 20 s of CPU to read; the values alone are all a roster needs. Values are as openpyxl's
    values_only gives them for text and numbers: shared and inline strings as text, numbers as
    float, booleans as bool, formula results as cached; a date stays its serial number (no roster
    column holds dates). The sheet's <dimension> is never read; columns past `max_columns` are skipped."""
    with zipfile.ZipFile(path) as archive:
        sheet = fromstring(archive.read("xl/workbook.xml")).find(f"{_M}sheets/{_M}sheet")
        rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        target = targets[sheet.get(_REL_ID)]
        sheet_path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        shared = []
        strings = next((t for t in targets.values() if t and t.endswith("sharedStrings.xml")), None)
        if strings:
            strings = strings.lstrip("/") if strings.startswith("/") else posixpath.normpath("xl/" + strings)
        elif "xl/sharedStrings.xml" in archive.namelist():  # present but not related: some writers
            strings = "xl/sharedStrings.xml"
            for _, element in iterparse(archive.open(strings)):
                if element.tag == f"{_M}si":
                    shared.append(_string_item(element))
                    element.clear()
        with archive.open(sheet_path) as handle:
            parent, line = None, 0
            for event, element in iterparse(handle, events=("start", "end")):
                if event == "start":
                    if element.tag == f"{_M}sheetData":
                        parent = element
                    continue
                if element.tag != f"{_M}row":
                    continue
                line = int(element.get("r") or line + 1)
                yield line, _row_values(element, shared, max_columns)
                if parent is not None:
                    parent.clear()  # rows already read hold no memory


def _string_item(element) -> str:
    """The text of a shared or inline string: its <t>, or its rich-text runs' <t> (phonetic
    guides, <rPh>, are not part of the text)."""
    parts = []
    for child in element:
        if child.tag == f"{_M}t":
            parts.append(child.text or "")
        elif child.tag == f"{_M}r":
            parts.extend(t.text or "" for t in child.iter(f"{_M}t"))
    return "".join(parts)


def _row_values(row, shared: list[str], max_columns: int) -> list:
    values: list = []
    for cell in row.iter(f"{_M}c"):
        ref = cell.get("r")
        if ref:
            letters = _CELL_COLUMN.match(ref).group(0)
            column = 0
            for letter in letters:
                column = column * 26 + ord(letter) - 64
            column -= 1
        else:
            column = len(values)
        if column >= max_columns:
            continue
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            found = cell.find(f"{_M}is")
            value = _string_item(found) if found is not None else None
        else:
            raw = cell.findtext(f"{_M}v")
            if raw is None:
                value = None
            elif kind == "s":
                value = shared[int(raw)]
            elif kind == "n":
                value = float(raw)
            elif kind == "b":
                value = raw == "1"
            else:  # "str" (a formula's text), "e" (an error), "d" (an ISO date)
                value = raw
        values.extend([None] * (column - len(values)))
        if column < len(values):
            values[column] = value
        else:
            values.append(value)
    return values
