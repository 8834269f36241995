"""The streaming XLSX reader behind roster imports (quizapp.services.roster_xlsx) gives the
values openpyxl gives, for what rosters hold: shared and inline strings, rich text, sparse
rows and cells, numbers, booleans — without openpyxl's per-cell objects (48,000 rows fast)."""
from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from quizapp.services.roster_xlsx import sheet_rows


def test_values_match_openpyxl_for_a_sparse_sheet_with_rich_text(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["C1"] = "姓名", "准考证号"
    sheet["A3"] = CellRichText([TextBlock(InlineFont(b=True), "张"), "三"])
    sheet["B3"], sheet["C3"], sheet["D3"] = 13800000001, 1.5, True
    sheet["F7"] = "远处的格"
    book.create_sheet("第二页")["A1"] = "不读"
    path = tmp_path / "r.xlsx"
    book.save(path)
    mine = {line: values for line, values in sheet_rows(path, 50)}
    theirs = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    expected = {}
    for line, values in enumerate(theirs.iter_rows(values_only=True), start=1):
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        if values:
            expected[line] = values
    assert {line: values for line, values in mine.items() if values} == expected
    assert mine[3] == ["张三", 13800000001.0, 1.5, True] and mine[7] == [None] * 5 + ["远处的格"]
    assert list(sheet_rows(path, 2))[2] == (7, [])  # columns past the limit are not read


def test_inline_strings_and_phonetic_guides(tmp_path):
    """Some exporters write inline strings, and Japanese/Chinese Excel keeps phonetic runs (rPh)
    inside shared strings: neither may change the text."""
    book = Workbook()
    book.active["A1"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet_xml = (f'<worksheet xmlns="{main}"><sheetData><row r="2"><c r="A2" t="inlineStr"><is><t>王五</t></is></c>'
                 '<c r="B2" t="s"><v>0</v></c></row></sheetData></worksheet>')
    strings = (f'<sst xmlns="{main}"><si><t>县财政局</t><rPh sb="0" eb="1"><t>けん</t></rPh></si></sst>')
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml.encode()
            target.writestr(item, data)
        target.writestr("xl/sharedStrings.xml", strings)
    path = tmp_path / "inline.xlsx"
    path.write_bytes(out.getvalue())
    assert list(sheet_rows(path, 50)) == [(2, ["王五", "县财政局"])]
