"""Reading a roster file (CSV or XLSX) into validated rows; nothing is written.

Contract of `read_roster`: it never raises for a bad file. It returns a `RosterReport` whose
`errors` is empty exactly when the rows may be imported; `warnings` (likely duplicate people)
do not block. Each message names one kind of problem with every row it affects
(「名单.xlsx 第 3、5、9 行：姓名为空」), never one line per row.

What an office's roster really looks like is accepted: a title row (often merged) above the
headers, headers with spaces, asterisks or notes in brackets, 手机号码/联系电话 for the phone,
numbers typed as numbers, no 准考证号 column (then `NumberRule` generates them).

What an attacker's file looks like is refused with one Chinese line, before any large amount
of work: files over MAX_FILE_BYTES, XLSX archives that unpack to more than MAX_UNPACKED_BYTES,
more than MAX_ROWS rows (the rows actually present are counted; the sheet's own `<dimension>`
claim is ignored), a text file renamed .xlsx, a CSV that is not UTF-8 (with how to save one).
Cells are checked against the database's column limits before anything is confirmed.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from ..models import Unit, User
from .roster_xlsx import sheet_rows

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # a 60,000-row, 10-column sheet unpacks to ~25 MB
MAX_ROWS = 60_000
MAX_COLUMNS = 50  # columns beyond this are not read at all
HEADER_SEARCH_ROWS = 10
MAX_LISTED_ROWS = 30  # rows named per message; the rest are counted

FIELDS = {"name": "姓名", "unit": "单位", "username": "准考证号", "phone": "手机", "group": "分组", "branch": "党支部"}
# The database's column lengths (quizapp.models.people): longer text would fail at insert time.
LIMITS = {"name": 64, "unit": 100, "username": 64, "phone": 32, "group": 50, "branch": 100}
HEADERS = {
    "姓名": "name", "名字": "name", "参赛人员": "name", "参赛人员姓名": "name",
    "单位": "unit", "工作单位": "unit", "单位名称": "unit", "所在单位": "unit", "部门": "unit",
    "准考证号": "username", "准考证": "username", "准考证编号": "username", "考号": "username",
    "手机": "phone", "手机号": "phone", "手机号码": "phone", "联系电话": "phone", "电话": "phone",
    "联系方式": "phone", "电话号码": "phone",
    "分组": "group", "单位分组": "group",
    "党支部": "branch", "所在党支部": "branch", "支部": "branch", "党支部名称": "branch",
}
REQUIRED = ("name", "unit")
SAVE_AS_UTF8 = "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”，或直接上传 .xlsx 文件"
CJK = re.compile(r"^[\u3400-\u9fff·•]+$")


class RosterFileError(Exception):
    """The file cannot be read as a roster at all; the message is the one line to show."""


@dataclass
class NumberRule:
    """Generated 准考证号: `prefix` + a sequence of at least `width` digits, continuing after
    the highest number already in use with that prefix."""

    prefix: str = "KS"
    width: int = 4

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z0-9-]{0,16}", self.prefix or ""):
            raise ValueError("编号前缀只能由字母、数字和连字符组成，最多 16 位")
        if not 3 <= int(self.width) <= 8:
            raise ValueError("序号位数应在 3–8 之间")
        self.width = int(self.width)


@dataclass
class RosterRow:
    line: int
    name: str
    unit: str
    username: str
    phone: str = ""
    group: str = ""
    branch: str = ""  # 党支部 (optional column)


@dataclass
class RosterReport:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    header_line: int = 1
    generated: str = ""  # "KS0001–KS0400" when the app numbers the rows


class _Problems:
    """Rows grouped by kind of problem, in the order kinds were first met."""

    def __init__(self, file_name: str):
        self.file_name = file_name
        self.kinds: dict[str, tuple[list[int], dict[str, None]]] = {}

    def add(self, kind: str, line: int, detail: str = "") -> None:
        """`kind` may hold "{}" where the details go; otherwise they follow a colon."""
        lines, details = self.kinds.setdefault(kind, ([], {}))
        if not lines or lines[-1] != line:  # rows arrive in file order
            lines.append(line)
        if detail:
            details.setdefault(detail)  # a dict: ordered, and O(1) for 60,000 rows

    def messages(self) -> list[str]:
        out = []
        for kind, (lines, details) in self.kinds.items():
            shown = "、".join(str(n) for n in lines[:MAX_LISTED_ROWS])
            more = f" 等 {len(lines)} 行" if len(lines) > MAX_LISTED_ROWS else ""
            extra = "、".join(list(details)[:10]) + (f" 等 {len(details)} 处" if len(details) > 10 else "")
            text = kind.format(extra) if "{}" in kind else kind + (f"：{extra}" if extra else "")
            out.append(f"{self.file_name} 第 {shown}{more} 行：{text}")
        return out


def read_roster(path: str | Path, create_units: bool = True, display_name: str | None = None,
                numbering: NumberRule | None = None) -> RosterReport:
    """Parse and validate a roster. With `create_units` False a unit not yet in the system is
    an error. Without a 准考证号 column, numbers come from `numbering` (default KS0001…)."""
    path = Path(path)
    name = display_name or path.name
    report = RosterReport()
    try:
        header_line, columns, rows = _table(path, name)
    except RosterFileError as exc:
        report.errors.append(str(exc))
        return report
    report.header_line = header_line
    problems, warnings = _Problems(name), _Problems(name)
    for line, record in rows:
        row = _row(line, record, problems)
        if row is not None:
            report.rows.append(row)
    if "username" not in columns.values() and report.rows:
        report.generated = _number(report.rows, numbering or NumberRule())
    _check_against_database(report, create_units, problems, warnings)
    report.errors = problems.messages()
    report.warnings = warnings.messages()
    if not report.rows and not report.errors:
        report.errors.append(f"{name}：第 {header_line} 行表头之下没有人员数据")
    return report


def _row(line: int, record: dict[str, str], problems: _Problems) -> RosterRow | None:
    """One data row, or None if it breaks a rule (the rule goes to `problems`)."""
    ok = True
    for key in REQUIRED + (("username",) if "username" in record else ()):
        if not record.get(key):
            problems.add(f"{FIELDS[key]}为空", line)
            ok = False
    for key, limit in LIMITS.items():
        if len(record.get(key, "")) > limit:
            problems.add(f"{FIELDS[key]}超过 {limit} 个字", line)
            ok = False
    if record.get("username") and re.search(r"\s", record["username"]):
        problems.add("准考证号中不能有空格", line)
        ok = False
    if not ok:
        return None
    return RosterRow(line, record["name"], record["unit"], record.get("username", ""), record.get("phone", ""),
                     record.get("group", ""), record.get("branch", ""))


def _number(rows: list[RosterRow], rule: NumberRule) -> str:
    pattern = re.compile(re.escape(rule.prefix) + r"(\d+)$")
    used = db.session.scalars(select(User.username).where(User.username.startswith(rule.prefix, autoescape=True)))
    start = max((int(m.group(1)) for m in map(pattern.match, used) if m), default=0) + 1
    for offset, row in enumerate(rows):
        row.username = f"{rule.prefix}{start + offset:0{rule.width}d}"
    return f"{rows[0].username}–{rows[-1].username}"


def _check_against_database(report: RosterReport, create_units: bool, problems: _Problems,
                            warnings: _Problems) -> None:
    """Duplicates within the file and against the system; units that do not exist yet."""
    existing = set(db.session.scalars(select(User.username)))
    units = set(db.session.scalars(select(Unit.name)))
    people = {(n, u): username for n, u, username in db.session.execute(
        select(User.name, Unit.name, User.username).join(Unit, User.unit_id == Unit.id))}
    seen: dict[str, int] = {}
    same_person: dict[tuple[str, str], int] = {}
    for row in report.rows:
        if row.username in seen:
            problems.add("准考证号与前面的行重复", row.line, f"{row.username} 同第 {seen[row.username]} 行")
        elif row.username in existing:
            problems.add("准考证号 {} 已被系统中的人员使用，不会覆盖已有人员", row.line, row.username)
        seen.setdefault(row.username, row.line)
        key = (row.name, row.unit)
        if key in same_person:
            warnings.add("姓名和单位与前面的行相同，请确认不是重复录入", row.line,
                         f"{row.name}（{row.unit}）同第 {same_person[key]} 行")
        elif key in people:
            warnings.add("系统中已有同单位同名人员，请确认不是重复导入", row.line,
                         f"{row.name}（{row.unit}，已有准考证号 {people[key]}）")
        same_person.setdefault(key, row.line)
        if row.unit not in units and not create_units:
            problems.add("单位{}不存在（如需新建，请选择“自动新建单位”）", row.line, f"“{row.unit}”")
        elif row.unit not in units:
            units.add(row.unit)
            report.new_units.append(row.unit)


def _table(path: Path, name: str) -> tuple[int, dict[int, str], list[tuple[int, dict[str, str]]]]:
    """(header line, {column index: field}, [(line, {field: text})]) for the non-blank rows."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RosterFileError(f"{name}：无法读取文件（{exc.strerror or exc}）") from None
    if size > MAX_FILE_BYTES:
        raise RosterFileError(f"{name}：文件过大（{size / 1048576:.1f} MB），名单文件不能超过 {MAX_FILE_BYTES // 1048576} MB")
    if size == 0:
        raise RosterFileError(f"{name}：文件为空")
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    raw_rows = _xlsx_rows(path, name) if is_xlsx else _csv_rows(path, name)
    header_line, columns = _find_header(raw_rows, name)
    rows = []
    for line, values in raw_rows:
        if line <= header_line:
            continue
        if len(rows) >= MAX_ROWS:
            raise RosterFileError(f"{name}：超过 {MAX_ROWS} 行，请拆分为几个文件分别导入")
        record = {key: _text(values[i], key) if i < len(values) else "" for i, key in columns.items()}
        if any(record.values()):
            rows.append((line, record))
    return header_line, columns, rows


def _find_header(raw_rows, name: str) -> tuple[int, dict[int, str]]:
    """The first row among the first HEADER_SEARCH_ROWS holding every required column; a title
    row (merged or not) above it is skipped. Raises with the columns still missing."""
    best: dict[int, str] = {}
    for line, values in raw_rows:
        if line > HEADER_SEARCH_ROWS:
            break
        columns: dict[int, str] = {}
        for index, value in enumerate(values):
            key = HEADERS.get(_header_text(value))
            if key and key not in columns.values():
                columns[index] = key
        if all(key in columns.values() for key in REQUIRED):
            return line, columns
        if len(columns) > len(best):
            best = columns
    missing = "".join(f"“{FIELDS[key]}”" for key in REQUIRED if key not in best.values())
    raise RosterFileError(f"{name}：前 {HEADER_SEARCH_ROWS} 行中找不到表头，缺少{missing}列"
                          "（表头必须包含 姓名、单位，可选 准考证号、手机号码、分组、党支部；没有准考证号列时由系统编号）")


def _header_text(value) -> str:
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", str(value or ""))
    return re.sub(r"[\s*＊:：]", "", text)


def _text(value, key: str) -> str:
    """A cell as text: numbers typed as numbers lose Excel's ".0"; a name written with spaces
    for alignment (「张  三」) loses them."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if key == "name" and CJK.match(re.sub(r"\s", "", text) or "-"):
        text = re.sub(r"\s", "", text)
    return text


def _csv_rows(path: Path, name: str):
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise RosterFileError(f"{name}：这是 Excel 工作簿（XLSX），请把扩展名改为 .xlsx 后上传")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RosterFileError(f"{name}：文件是 UTF-16（“Unicode 文本”）编码。{SAVE_AS_UTF8}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            raw.decode("gb18030")
            kind = "文件是 GBK（ANSI）编码，不是 UTF-8"
        except UnicodeDecodeError:
            kind = "文件不是 UTF-8 编码的文本"
        raise RosterFileError(f"{name}：{kind}。{SAVE_AS_UTF8}") from None
    if "\x00" in text:
        raise RosterFileError(f"{name}：文件含有二进制内容，不是 CSV 文本。{SAVE_AS_UTF8}")
    try:
        return [(line, row[:MAX_COLUMNS]) for line, row in _limited(enumerate(csv.reader(io.StringIO(text)), start=1), name)]
    except csv.Error as exc:
        raise RosterFileError(f"{name}：CSV 格式错误（{exc}）。{SAVE_AS_UTF8}") from None


def _limited(rows, name: str):
    """The non-blank (line, row) pairs — lines numbered as the file numbers them, from 1 —
    stopping with an error past the row cap. Blank rows are dropped here, so a sheet padded
    with a million empty rows costs time to skip but no memory."""
    count = 0
    for line, row in rows:
        if not any(value is not None and str(value).strip() for value in row):
            continue
        count += 1
        if count > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise RosterFileError(f"{name}：超过 {MAX_ROWS} 行，请拆分为几个文件分别导入")
        yield line, row


NOT_XLSX = "不是有效的 XLSX 文件（可能是其他格式的文件改了扩展名，或文件已损坏）。请用 Excel 打开后“另存为”Excel 工作簿（*.xlsx）"


def _xlsx_rows(path: Path, name: str):
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if "xl/workbook.xml" not in {m.filename for m in members}:
                raise RosterFileError(f"{name}：{NOT_XLSX}")
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise RosterFileError(f"{name}：解压后超过 {MAX_UNPACKED_BYTES // 1048576} MB，不像是一份名单")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError):
        raise RosterFileError(f"{name}：{NOT_XLSX}") from None
    # An untrusted file can fail in many ways (bad XML, missing parts, odd values); each of
    # them means the same thing to the organizer, so all get the one message.
    try:
        return list(_limited(sheet_rows(path, MAX_COLUMNS), name))
    except RosterFileError:
        raise
    except Exception:  # noqa: BLE001 — see above
        raise RosterFileError(f"{name}：{NOT_XLSX}") from None
