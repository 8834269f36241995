"""Editing people: details, disabling, password resets, liaisons, admission slips."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Competition, Round, Unit, User
from . import ServiceError, audit
from .accounts import hash_password, issue_initial_password, new_password, unseal_initial
from .units import unit_order


def update_person(user: User, name: str, unit_id: int, phone: str, group_name: str | None = None) -> None:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise ServiceError("单位不存在")
    if not name.strip():
        raise ServiceError("姓名不能为空")
    before = {"name": user.name, "unit": user.unit.name if user.unit else "", "phone": user.phone or ""}
    user.name, user.unit_id, user.phone = name.strip(), unit.id, phone.strip() or None
    after = {"name": user.name, "unit": unit.name, "phone": user.phone or ""}
    audit.record("person.edit", f"{user.name}（{user.username}）", "修改人员信息", before=before, after=after)
    db.session.commit()


def set_unit_group(unit: Unit, group: str) -> None:
    """Put a unit in a group (e.g. 乡镇 / 县直部门) — every list can be filtered by it."""
    before = unit.group_name
    unit.group_name = group.strip()[:50] or None
    audit.record("unit.group", unit.name, f"分组：{before or '无'} → {unit.group_name or '无'}")
    db.session.commit()


def end_sessions(user: User) -> None:
    """Sign the person out on every device (quizapp.access checks the version). No commit."""
    user.session_version = (user.session_version or 0) + 1


def set_active(user: User, active: bool, reason: str) -> None:
    if user.role == "admin":
        raise ServiceError("不能在此停用组织者账号")
    user.active = active
    if not active:
        end_sessions(user)
    audit.record("person.enable" if active else "person.disable", f"{user.name}（{user.username}）", reason or "")
    db.session.commit()


def reset_password(user: User) -> str:
    """A new generated password, returned once for printing; the slip shows it too."""
    password = issue_initial_password(user)  # generated like a roster's: the same protection
    end_sessions(user)
    audit.record("person.reset_password", f"{user.name}（{user.username}）", "重置密码")
    db.session.commit()
    return password


def create_liaison(unit: Unit, username: str, name: str) -> str:
    """A unit liaison account; returns its generated password (shown once)."""
    if db.session.scalar(select(User).filter_by(username=username)):
        raise ServiceError(f"用户名 {username} 已存在")
    password = new_password(10)
    db.session.add(User(username=username, name=name, role="liaison", unit_id=unit.id,
                        password_hash=hash_password(password)))
    audit.record("person.create_liaison", unit.name, f"设置联络员 {name}（{username}）")
    db.session.commit()
    return password


@dataclass
class Slip:
    name: str
    unit: str
    username: str
    password: str
    rounds: list[Round]
    competition: str = ""


def admission_slips(unit_id: int | None = None, competition: Competition | None = None) -> list[Slip]:
    """Slips for every active participant (or one unit's) in the unit-list order, with the
    rounds of `competition` (not yet closed) they may take and the competition's name."""
    query = (select(User).where(User.role == "participant", User.active.is_(True))
             .order_by(unit_order(User.unit_id), User.username))
    if unit_id:
        query = query.where(User.unit_id == unit_id)
    round_query = select(Round).where(Round.status != "closed").order_by(Round.opens_at)
    if competition is not None:
        round_query = round_query.where(Round.competition_id == competition.id)
    rounds = db.session.scalars(round_query).all()
    entrants = {(e.round_id, e.user_id) for r in rounds if r.restricted for e in r.entrants}
    title = competition.name if competition is not None else ""
    slips = []
    for user in db.session.scalars(query):
        mine = [r for r in rounds if not r.restricted or (r.id, user.id) in entrants]
        slips.append(Slip(user.name, user.unit.name if user.unit else "", user.username,
                          unseal_initial(user.initial_password_enc) or "（未保存，请由组织者重置密码）", mine, title))
    return slips
