"""The 体检 as an XLSX workbook: explanations, the unit × document and unit × chapter heatmaps
(a colour-scale conditional format on the same three points as the pages), the item analysis,
and accuracy by document with a native Excel bar chart. Every text cell goes through the
project's safe writer (quizapp.spreadsheet.xlsx_cell), so no user or bank text is a formula."""
from __future__ import annotations

import io

from ..charts import AMBER, GREEN, RED, SCALE_HIGH, SCALE_LOW, SCALE_MID
from ..models import Round
from ..spreadsheet import xlsx_cell
from . import health_views
from .health_texts import EXPLANATIONS, TYPE_NAMES

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _hex(rgb) -> str:
    return "FF%02X%02X%02X" % rgb


def _row(sheet, values, percent_from: int | None = None, bold: bool = False):
    from openpyxl.styles import Font

    font = Font(bold=True) if bold else None
    cells = []
    for index, value in enumerate(values):
        cell = xlsx_cell(sheet, value, font)
        if percent_from is not None and index >= percent_from and isinstance(value, float):
            cell.number_format = "0.0%"
        cells.append(cell)
    sheet.append(cells)


def _heat_sheet(workbook, title: str, payload: dict, kind: str) -> None:
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    if kind == "doc":
        cols = health_views.columns(payload, "doc")
    else:
        cols = [(f"{d}\t{t}", f"{next(x['title'] for x in payload['docs'] if x['slug'] == d)} · {t}")
                for d, t in payload["topics"]]
    _, county, rows = health_views.heatmap(payload, kind) if kind == "doc" else _all_topics(payload, cols)
    _row(sheet, ["单位", "报名人数", "参赛人数", "参与率", "总正确率"] + [label for _, label in cols], bold=True)
    for row in [county] + rows:
        _row(sheet, [row.name, row.registered, row.took_part, row.participation, row.overall]
             + [cell[0] for cell in row.cells], percent_from=3)
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 28
    for index in range(2, len(cols) + 6):
        sheet.column_dimensions[get_column_letter(index)].width = 14
    last_col = get_column_letter(len(cols) + 5)
    rule = ColorScaleRule(start_type="num", start_value=SCALE_LOW, start_color=_hex(RED),
                          mid_type="num", mid_value=SCALE_MID, mid_color=_hex(AMBER),
                          end_type="num", end_value=SCALE_HIGH, end_color=_hex(GREEN))
    sheet.conditional_formatting.add(f"E2:{last_col}{len(rows) + 2}", rule)


def _all_topics(payload: dict, cols):
    """The unit × chapter heatmap over every document's chapters at once (the page shows one
    document at a time)."""
    from .health_views import HeatRow

    rows_by_doc = [health_views.heatmap(payload, "topic", doc=d["slug"]) for d in payload["docs"]]
    if not rows_by_doc:
        return cols, HeatRow(None, "全县"), []
    county = HeatRow(None, rows_by_doc[0][1].name, rows_by_doc[0][1].registered, rows_by_doc[0][1].took_part,
                     [c for _, county, _ in rows_by_doc for c in county.cells])
    county.overall = _overall(county.cells)
    rows = []
    for index, first in enumerate(rows_by_doc[0][2]):
        cells = [c for _, _, unit_rows in rows_by_doc for c in unit_rows[index].cells]
        rows.append(HeatRow(first.unit_id, first.name, first.registered, first.took_part, cells, _overall(cells)))
    return cols, county, rows


def _overall(cells) -> float | None:
    answers = sum(n for _, n, _ in cells)
    return sum((a or 0) * n for a, n, _ in cells) / answers if answers else None


def _items_sheet(workbook, payload: dict) -> None:
    sheet = workbook.create_sheet("题目分析")
    _row(sheet, ["题号", "题型", "出处", "章节", "题干", "作答人次", "难度系数（得分率）", "区分度", "区分效率",
                 "各选项选择比例", "选得最多的错误答案", "选它的人数", "提示"], bold=True)
    for item in payload["items"]:
        shares = "；".join(f"{k} {v:.0%}" for k, v in item["shares"].items())
        wrong = item["wrong"] or ["", None]
        _row(sheet, [item["qid"], TYPE_NAMES.get(item["type"], item["type"]),
                     health_views.citation(item["doc"], item["article"]), item["topic"], item["stem"], item["n"],
                     item["facility"], item["discrimination"], item["efficiency"], shares, wrong[0], wrong[1],
                     "、".join(item["flags"])], percent_from=6)
    for letter, width in zip("ABCDEFGHIJKLM", (16, 8, 34, 18, 60, 10, 14, 10, 10, 30, 18, 10, 16)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "B2"


def _docs_sheet(workbook, payload: dict) -> None:
    from openpyxl.chart import BarChart, Reference

    sheet = workbook.create_sheet("各文件正确率")
    cols, county, _ = health_views.heatmap(payload, "doc")
    _row(sheet, ["文件", "全县正确率", "作答题次"], bold=True)
    for (_, title), (accuracy, answers, _) in zip(cols, county.cells):
        _row(sheet, [title, accuracy, answers], percent_from=1)
    sheet.column_dimensions["A"].width = 40
    chart = BarChart()
    chart.type = "bar"
    chart.title = "各文件正确率（全县）"
    chart.y_axis.title = "正确率"
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    chart.y_axis.numFmt = "0%"
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=len(cols) + 1), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(cols) + 1))
    chart.height, chart.width = max(7.5, 1.2 * len(cols)), 18
    sheet.add_chart(chart, "E2")


def report_workbook(rounds: list[Round], payload: dict) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    notes = workbook.active
    notes.title = "说明"
    _row(notes, ["体检：" + "、".join(r.name for r in rounds)], bold=True)
    for name, text in EXPLANATIONS:
        _row(notes, [name, text])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 100
    _heat_sheet(workbook, "单位×文件", payload, "doc")
    _heat_sheet(workbook, "单位×章节", payload, "topic")
    _items_sheet(workbook, payload)
    _docs_sheet(workbook, payload)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
