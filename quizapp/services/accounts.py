"""Accounts: password hashing, organizers, and participant rosters.

`import_roster` validates the whole file first and writes nothing if any row is bad; the
report names every bad row. Generated passwords are returned once, for printing, and only
their hashes are stored.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Unit, User
from . import ServiceError, audit

HEADERS = {"姓名": "name", "单位": "unit", "准考证号": "username", "手机": "phone", "手机号": "phone",
           "分组": "group", "单位分组": "group"}
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off a printed slip


def _fernet():
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(("initial-password:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_initial(password: str) -> str:
    """Encrypt a generated password for printing on admission slips (never for logging in)."""
    return _fernet().encrypt(password.encode()).decode()


def unseal_initial(sealed: str | None) -> str:
    """The printable initial password, or "" if none is kept or the key has changed since."""
    from cryptography.fernet import InvalidToken

    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(user: User | None, password: str) -> bool:
    return user is not None and check_password_hash(user.password_hash, password)


def new_password(length: int = 8) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def create_admin(username: str, name: str, password: str) -> User:
    if len(password) < 8:
        raise ServiceError("管理员密码至少 8 位")
    if db.session.scalar(select(User).filter_by(username=username)):
        raise ServiceError(f"用户名 {username} 已存在")
    user = User(username=username, name=name, role="admin", password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


@dataclass
class RosterRow:
    line: int
    name: str
    unit: str
    username: str
    phone: str = ""
    group: str = ""


@dataclass
class RosterReport:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)


def read_roster(path: str | Path, create_units: bool = True, display_name: str | None = None) -> RosterReport:
    """Parse and validate a CSV (UTF-8, with or without BOM) or XLSX roster; nothing is written.
    With `create_units` False, a row naming a unit that does not exist is an error."""
    path = Path(path)
    name = display_name or path.name
    report = RosterReport()
    try:
        table = _read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _read_csv(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        report.errors.append(f"{name}: 无法读取：{exc}")
        return report
    if not table:
        report.errors.append(f"{name}: 文件为空")
        return report
    columns = {i: HEADERS.get(str(h).strip()) for i, h in enumerate(table[0]) if h is not None}
    missing = {"name", "unit", "username"} - set(columns.values())
    if missing:
        report.errors.append(f"{name} 第 1 行：表头必须包含 姓名、单位、准考证号（可选 手机）")
        return report
    existing = set(db.session.scalars(select(User.username)))
    units = set(db.session.scalars(select(Unit.name)))
    seen: dict[str, int] = {}
    for line, values in enumerate(table[1:], start=2):
        record = {field_: str(values[i]).strip() if i < len(values) and values[i] is not None else ""
                  for i, field_ in columns.items() if field_}
        if not any(record.values()):
            continue
        row = RosterRow(line, record["name"], record["unit"], record["username"], record.get("phone", ""),
                        record.get("group", ""))
        problems = [label for key, label in (("name", "姓名"), ("unit", "单位"), ("username", "准考证号"))
                    if not getattr(row, key)]
        if problems:
            report.errors.append(f"{name} 第 {line} 行：{'、'.join(problems)}为空")
            continue
        if row.username in seen:
            report.errors.append(f"{name} 第 {line} 行：准考证号 {row.username} 与第 {seen[row.username]} 行重复")
        elif row.username in existing:
            report.errors.append(f"{name} 第 {line} 行：准考证号 {row.username} 已存在，不会覆盖已有人员")
        seen.setdefault(row.username, line)
        if row.unit not in units and not create_units:
            report.errors.append(f"{name} 第 {line} 行：单位“{row.unit}”不存在")
        elif row.unit not in units and row.unit not in report.new_units:
            report.new_units.append(row.unit)
        report.rows.append(row)
    if not report.rows and not report.errors:
        report.errors.append(f"{name}: 没有人员数据")
    return report


def _read_csv(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text))]


def _read_xlsx(path: Path) -> list[list]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def import_roster(report: RosterReport, progress=None) -> list[tuple[RosterRow, str]]:
    """Write a validated roster in one transaction; returns (row, initial password) pairs.
    `progress`, if given, is called with (people written so far, total)."""
    if report.errors:
        raise ServiceError("名单有错误，未导入任何人员")
    units = {u.name: u for u in db.session.scalars(select(Unit))}
    issued = []
    try:
        groups = {row.unit: row.group for row in report.rows if row.group}
        for name in report.new_units:
            units[name] = Unit(name=name, group_name=groups.get(name) or None)
            db.session.add(units[name])
        for name, group in groups.items():  # a roster may also fill in existing units' groups
            if units[name].group_name is None:
                units[name].group_name = group
        for done, row in enumerate(report.rows, start=1):
            password = new_password()
            db.session.add(User(username=row.username, name=row.name, role="participant",
                                unit=units[row.unit], phone=row.phone or None,
                                password_hash=hash_password(password), initial_password_enc=seal_initial(password)))
            issued.append((row, password))
            if progress:
                progress(done, len(report.rows))
        audit.record("roster.import", f"{len(issued)} 人", f"导入 {len(issued)} 人，新建单位 {len(report.new_units)} 个",
                     new_units=report.new_units)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return issued


def write_passwords(issued: list[tuple[RosterRow, str]], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "单位", "准考证号", "初始密码"])
        writer.writerows([row.name, row.unit, row.username, password] for row, password in issued)
