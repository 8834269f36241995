"""Units (单位): the one order every unit list follows, and editing units in bulk.

The order: units the organizer gave a position (`sort_order`) first, by that position; then
the rest in 拼音 order of their names (pypinyin; characters without a reading, such as Latin
letters and digits, compare as themselves). Python lists sort with `unit_sort_key`; SQL
queries that page through people order by `unit_order(column)`, the same order as a CASE over
unit ids, so a page of the people list and a select of units agree.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pypinyin import Style, lazy_pinyin
from sqlalchemy import case, literal, select

from ..extensions import db
from ..models import Unit
from . import ServiceError, audit

NAME_MAX = 100  # the unit.name column
GROUP_MAX = 50  # the unit.group_name column
ORDER_MAX = 1_000_000
MAX_ROWS = 5000


@lru_cache(maxsize=4096)
def pinyin_key(name: str) -> tuple[str, ...]:
    """The name's syllables with tone numbers (mā < má < mǎ < mà), lower case."""
    return tuple(s.lower() for s in lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True))


def unit_sort_key(unit: Unit) -> tuple:
    """The sort key of every unit list: organizer-set position first, then 拼音, then the name."""
    return (unit.sort_order is None, unit.sort_order or 0, pinyin_key(unit.name), unit.name)


def sorted_units(units=None) -> list[Unit]:
    """`units` (default: every unit) in the unit-list order."""
    if units is None:
        units = db.session.scalars(select(Unit)).all()
    return sorted(units, key=unit_sort_key)


def unit_choices() -> list[tuple[int, str]]:
    """(id, name) pairs for a unit select, in the unit-list order."""
    return [(u.id, u.name) for u in sorted_units()]


def unit_order(unit_id_column):
    """A SQL ordering expression placing rows by their unit's position in `sorted_units()`;
    rows without a unit come last."""
    positions = {u.id: i for i, u in enumerate(sorted_units())}
    if not positions:
        return literal(0)
    return case(positions, value=unit_id_column, else_=len(positions))


@dataclass
class UnitRow:
    """One row of a bulk edit: `unit_id` None adds a unit; `line` names it in messages."""

    line: int
    unit_id: int | None
    name: str
    group: str
    order: str


@dataclass
class BulkResult:
    added: int = 0
    changed: int = 0
    problems: list[str] = field(default_factory=list)


def _clean(rows: list[UnitRow], units: dict[int, Unit]) -> tuple[list[tuple[UnitRow, int | None]], list[str]]:
    problems, clean, seen = [], [], {}
    for row in rows:
        row.name, row.group, row.order = row.name.strip(), row.group.strip(), row.order.strip()
        where = f"第 {row.line} 行"
        if row.unit_id is not None and row.unit_id not in units:
            problems.append(f"{where}：单位不存在（可能已被删除），请刷新页面")
            continue
        if not row.name:
            if row.unit_id is None and not row.group and not row.order:
                continue  # an empty "new unit" row
            problems.append(f"{where}：单位名称不能为空")
            continue
        if len(row.name) > NAME_MAX:
            problems.append(f"{where}：单位名称「{row.name[:20]}…」超过 {NAME_MAX} 字")
        if len(row.group) > GROUP_MAX:
            problems.append(f"{where}：分组名称超过 {GROUP_MAX} 字")
        order = None
        if row.order:
            try:
                order = int(row.order)
            except ValueError:
                problems.append(f"{where}：排序应为整数，「{row.order[:20]}」不是整数")
            else:
                if not 0 <= order <= ORDER_MAX:
                    problems.append(f"{where}：排序应在 0–{ORDER_MAX} 之间")
        if row.name in seen:
            problems.append(f"{where}：单位名称「{row.name}」与第 {seen[row.name]} 行重复")
        seen[row.name] = row.line
        clean.append((row, order))
    return clean, problems


def bulk_update(rows: list[UnitRow], source: str = "表格") -> BulkResult:
    """Apply a whole table of units at once: add rows without an id, rename, regroup and
    reorder the others. Checked as a whole first (names not blank, at most 100 characters,
    unique among themselves and against units not in the table; order a whole number); any
    problem writes nothing and is returned in `problems`. Otherwise one transaction writes
    every change with one audit entry."""
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    clean, problems = _clean(rows, units)
    listed = {row.unit_id for row, _ in clean if row.unit_id is not None}
    others = {u.name: u for uid, u in units.items() if uid not in listed}
    for row, _ in clean:
        if row.name in others:
            problems.append(f"第 {row.line} 行：单位「{row.name}」已存在")
    if problems:
        return BulkResult(problems=problems)
    result, changes, renames = BulkResult(), [], []
    for row, order in clean:
        group = row.group or None
        if row.unit_id is None:
            db.session.add(Unit(name=row.name, group_name=group, sort_order=order))
            result.added += 1
            changes.append(f"新增「{row.name}」")
            continue
        unit = units[row.unit_id]
        words = []
        if unit.name != row.name:
            words.append(f"改名为「{row.name}」")
            renames.append((unit, row.name))
        if unit.group_name != group:
            words.append(f"分组 {unit.group_name or '无'} → {group or '无'}")
        if unit.sort_order != order:
            words.append(f"排序 {unit.sort_order if unit.sort_order is not None else '无'} → {order if order is not None else '无'}")
        if words:
            changes.append(f"「{unit.name}」" + "，".join(words))
            result.changed += 1
        unit.group_name, unit.sort_order = group, order
    if not changes:
        return result
    _rename(renames)
    audit.record("unit.bulk", f"单位（{source}）", f"新增 {result.added} 个、修改 {result.changed} 个单位：" + "；".join(changes[:200]))
    db.session.commit()
    return result


def _rename(renames: list[tuple[Unit, str]]) -> None:
    """Rename through placeholder names first: two units swapping names in one table would
    otherwise break the unique index halfway through the UPDATEs."""
    for unit, _ in renames:
        unit.name = f"~{unit.id}~{unit.name}"[:NAME_MAX]
    db.session.flush()
    for unit, name in renames:
        unit.name = name
    db.session.flush()


def read_units_file(path: Path, filename: str) -> list[UnitRow]:
    """Rows of an uploaded CSV (UTF-8) or XLSX: 单位、分组、排序 (the last two optional).
    A first row naming the columns is skipped. A unit whose name exists already is updated,
    any other name is added. Raises ServiceError (Chinese) for a file that cannot be read."""
    if filename.lower().endswith(".xlsx"):
        table = _xlsx_rows(path)
    else:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ServiceError("CSV 文件不是 UTF-8 编码：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后再上传") from None
        table = list(csv.reader(io.StringIO(text)))
    if len(table) > MAX_ROWS:
        raise ServiceError(f"文件超过 {MAX_ROWS} 行")
    if table and table[0] and str(table[0][0]).strip() in ("单位", "单位名称"):
        table = table[1:]
        start = 2
    else:
        start = 1
    by_name = {u.name: u.id for u in db.session.scalars(select(Unit))}
    rows = []
    for line, cells in enumerate(table, start=start):
        cells = [("" if c is None else str(c)) for c in cells] + ["", "", ""]
        name = cells[0].strip()
        if not (name or cells[1].strip() or cells[2].strip()):
            continue
        order = cells[2].strip()
        if order.endswith(".0"):  # Excel stores whole numbers as floats
            order = order[:-2]
        rows.append(UnitRow(line, by_name.get(name), name, cells[1], order))
    if not rows:
        raise ServiceError("文件中没有单位")
    return rows


def _xlsx_rows(path: Path) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ServiceError("无法读取该 XLSX 文件，请确认它是 Excel 工作簿（.xlsx）") from None
    try:
        rows = []
        for values in book.active.iter_rows(values_only=True):
            rows.append(list(values[:3]))
            if len(rows) > MAX_ROWS:
                break
        return rows
    finally:
        book.close()
