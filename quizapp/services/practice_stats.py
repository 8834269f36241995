"""Practice figures for the liaison (own unit) and the organizer: participation and accuracy
per unit and per 党支部, and who practised this week.

"This week" is Monday 00:00 北京时间 until now. Every count is a GROUP BY in the database over
`practice_item` (answered rows only); people are the unit's active participants.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from .. import clock
from ..extensions import db
from ..models import Unit, User
from ..models.practice import PracticeItem
from ..rules.practice import week_start
from .units import unit_sort_key


def this_week() -> tuple[datetime, datetime]:
    """(Monday 00:00 北京时间 of this week as naive UTC, now)."""
    now = clock.now()
    return clock.from_local(week_start(clock.to_local(now))), now


@dataclass
class Row:
    """One unit, branch or person: people registered, who practised this week and ever,
    answers and right answers this week."""

    label: str
    registered: int = 0
    week_people: int = 0
    ever_people: int = 0
    week_answers: int = 0
    week_right: int = 0
    unit_id: int | None = None

    @property
    def week_rate(self) -> float | None:
        return self.week_people / self.registered if self.registered else None

    @property
    def week_accuracy(self) -> float | None:
        return self.week_right / self.week_answers if self.week_answers else None


_RIGHT = func.sum(case((PracticeItem.correct.is_(True), 1), else_=0))
_PEOPLE = (User.role == "participant", User.active.is_(True))


def _grouped(keys, since: datetime, where=()) -> dict:
    """key tuple → [registered, week people, ever people, week answers, week right]."""
    cells: dict = {}
    for *key, n in db.session.execute(select(*keys, func.count()).where(*_PEOPLE, *where).group_by(*keys)):
        cells.setdefault(tuple(key), [0, 0, 0, 0, 0])[0] = n
    ever = (select(*keys, func.count(func.distinct(PracticeItem.user_id))).join(User, User.id == PracticeItem.user_id)
            .where(*_PEOPLE, *where, PracticeItem.answered_at.is_not(None)).group_by(*keys))
    for *key, n in db.session.execute(ever):
        cells.setdefault(tuple(key), [0, 0, 0, 0, 0])[2] = n
    week = (select(*keys, func.count(func.distinct(PracticeItem.user_id)), func.count(), _RIGHT)
            .join(User, User.id == PracticeItem.user_id)
            .where(*_PEOPLE, *where, PracticeItem.answered_at >= since).group_by(*keys))
    for *key, people, answers, right in db.session.execute(week):
        cell = cells.setdefault(tuple(key), [0, 0, 0, 0, 0])
        cell[1], cell[3], cell[4] = people, answers, int(right or 0)
    return cells


def by_unit() -> tuple[list[Row], Row]:
    """Every unit (unit-list order, units nobody practised in included) and the county total."""
    since, _ = this_week()
    cells = _grouped((User.unit_id,), since)
    rows = []
    for unit in sorted(db.session.scalars(select(Unit)).all(), key=unit_sort_key):
        cell = cells.get((unit.id,), [0, 0, 0, 0, 0])
        rows.append(Row(unit.name, *cell, unit_id=unit.id))
    total = Row("全县合计", *[sum(r[i] for r in cells.values()) for i in range(5)])
    return rows, total


def by_branch(unit_id: int) -> list[Row]:
    """The unit's 党支部 (people without one under 「未填党支部」); [] when nobody has a branch."""
    since, _ = this_week()
    cells = _grouped((User.branch,), since, (User.unit_id == unit_id,))
    if not any(key[0] for key in cells):
        return []
    return [Row(key[0] or "未填党支部", *cell) for key, cell in sorted(cells.items(), key=lambda kv: (not kv[0][0], kv[0][0] or ""))]


@dataclass
class Person:
    user: User
    week_answers: int
    week_right: int
    last_at: datetime | None

    @property
    def week_accuracy(self) -> float | None:
        return self.week_right / self.week_answers if self.week_answers else None


def people_of_unit(unit_id: int) -> list[Person]:
    """The unit's active participants: who practised this week first (most answers first),
    then the others by 准考证号, each with their latest practice answer ever."""
    since, _ = this_week()
    week = {uid: (n, int(r or 0)) for uid, n, r in db.session.execute(
        select(PracticeItem.user_id, func.count(), _RIGHT).join(User, User.id == PracticeItem.user_id)
        .where(User.unit_id == unit_id, PracticeItem.answered_at >= since).group_by(PracticeItem.user_id))}
    last = dict(db.session.execute(
        select(PracticeItem.user_id, func.max(PracticeItem.answered_at)).join(User, User.id == PracticeItem.user_id)
        .where(User.unit_id == unit_id).group_by(PracticeItem.user_id)).all())
    people = db.session.scalars(select(User).where(User.unit_id == unit_id, *_PEOPLE).order_by(User.username)).all()
    rows = [Person(u, *week.get(u.id, (0, 0)), last.get(u.id)) for u in people]
    return sorted(rows, key=lambda p: (-p.week_answers, p.user.username))
