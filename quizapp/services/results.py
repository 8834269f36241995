"""Leaderboards (individual and by unit) and their CSV/XLSX exports.

Scores are read from the attempts, where they were stored when each attempt was finalized;
nothing is recomputed from raw answers here. Ranking rules: see quizapp.ranking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from .. import clock
from ..extensions import db
from ..formatting import TIE_RULE, format_duration, score_number
from ..models import ATTEMPT_STATUSES, Attempt, Round, Unit, User
from ..prizes import awarder
from ..ranking import UnitInput, UnitRow, rank_units
from ..spreadsheet import write_csv, write_xlsx  # noqa: F401 — the writers every export uses (cli, views)
from .attempts import sweep_expired
from .teams import team_leaderboard
from .final import stage_leaderboard
from .entry import registered_by_unit

UNIT_METHOD_LABELS = {"mean": "平均分", "sum": "总分", "best_k": "前 k 名平均分"}


@dataclass
class IndividualRow:
    attempt_id: int
    rank: int | None
    name: str
    username: str
    unit: str
    score: float
    max_score: float
    time_used: int
    submitted_at: datetime
    status: str
    unit_id: int | None = None
    prize: str = ""


def _individual_query(round_: Round, group: str | None, unit_id: int | None):
    """Finalized attempts with their rank computed by the database.

    The window orders exactly as quizapp.ranking.rank_individuals (score desc, time used asc,
    submission asc; RANK() gives equal rows equal ranks, 1, 1, 3). Invalidated attempts form
    their own partition and get no rank. The ranking runs over the whole round in one pass;
    group and unit filters apply to the ranked rows, so ranks stay those of the whole round."""
    valid = Attempt.invalidated_at.is_(None)
    ranked = (
        select(Attempt.id, Attempt.score, Attempt.max_score, Attempt.time_used, Attempt.submitted_at, Attempt.status,
               Attempt.invalidated_at, User.name, User.username, Unit.name.label("unit"), Unit.id.label("unit_id"),
               Unit.group_name,
               case((valid, func.rank().over(partition_by=valid, order_by=(
                   Attempt.score.desc(), Attempt.time_used.asc(), Attempt.submitted_at.asc()))), else_=None).label("rank"))
        .join(User, Attempt.user_id == User.id).outerjoin(Unit, User.unit_id == Unit.id)
        .where(Attempt.round_id == round_.id, Attempt.status != "in_progress")
    ).subquery()
    query = select(ranked)
    if group:
        query = query.where(ranked.c.group_name == group)
    if unit_id:
        query = query.where(ranked.c.unit_id == unit_id)
    return query, ranked


def individual_leaderboard(round_: Round, group: str | None = None, unit_id: int | None = None,
                           sweep: bool = True, offset: int = 0, limit: int | None = None) -> list[IndividualRow]:
    """Finalized attempts in rank order (quizapp.ranking), invalidated ones last and unranked.
    `group` / `unit_id` filter the rows; ranks stay those of the whole round. `offset`/`limit`
    page in the database, so a page of a 50,000-person round costs one indexed query.
    `sweep` finalizes expired attempts first (it commits); pass False inside a transaction."""
    if sweep:
        sweep_expired(round_.id)
    query, ranked = _individual_query(round_, group, unit_id)
    query = query.order_by(ranked.c.rank.is_(None), ranked.c.rank, ranked.c.username).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    prize = awarder((round_.prizes or {}).get("individual"))
    return [
        IndividualRow(r.id, r.rank, r.name, r.username, r.unit or "", round(r.score or 0, 2), r.max_score,
                      r.time_used or 0, r.submitted_at,
                      "已作废" if r.invalidated_at else ATTEMPT_STATUSES[r.status], r.unit_id, prize(r.rank))
        for r in db.session.execute(query)
    ]


def individual_count(round_: Round, group: str | None = None) -> int:
    query = select(func.count()).select_from(Attempt).join(User, Attempt.user_id == User.id).where(
        Attempt.round_id == round_.id, Attempt.status != "in_progress")
    if group:
        query = query.join(Unit, User.unit_id == Unit.id).where(Unit.group_name == group)
    return db.session.scalar(query)


def unit_leaderboard(round_: Round, group: str | None = None) -> list[UnitRow]:
    """Units ranked by the round's method (quizapp.ranking); in a team round, the teams.
    `group` filters the rows shown; ranks stay those of the whole round."""
    if round_.is_team:
        stage = stage_leaderboard(round_)  # a finished on-stage final's scores are the round's team results
        return _in_group(team_leaderboard(round_) if stage is None else stage, group)
    sweep_expired(round_.id)
    registered = registered_by_unit(round_)
    scores: dict[int, list[float]] = {}
    for unit_id, score in db.session.execute(
        select(User.unit_id, Attempt.score).join(User, Attempt.user_id == User.id)
        .where(Attempt.round_id == round_.id, Attempt.status != "in_progress")
    ):
        scores.setdefault(unit_id, []).append(round(score or 0, 2))
    units = [
        UnitInput(unit.id, unit.name, registered.get(unit.id, 0), tuple(scores.get(unit.id, ())))
        for unit in db.session.scalars(select(Unit))
    ]
    return _in_group(rank_units(units, round_.unit_method, round_.unit_k), group)


def _in_group(rows: list[UnitRow], group: str | None) -> list[UnitRow]:
    if not group:
        return rows
    members = set(db.session.scalars(select(Unit.id).where(Unit.group_name == group)))
    return [row for row in rows if row.key in members]


def unit_groups() -> list[str]:
    return [g for g in db.session.scalars(select(Unit.group_name).distinct().order_by(Unit.group_name)) if g]


def format_time(moment: datetime | None) -> str:
    local = clock.to_local(moment)
    return local.strftime("%Y-%m-%d %H:%M:%S") if local else ""


INDIVIDUAL_HEADERS = ["排名", "姓名", "准考证号", "单位", "得分", "满分", "用时", "交卷时间", "状态", "奖项"]


def unit_headers(round_: Round) -> list[str]:
    """Column names of the unit (or team) ranking: the page and its exports use these same names."""
    if round_.is_team:
        return ["排名", "队伍", "队伍成绩", "用时", "队员", "参赛", "参与率", "奖项"]
    label = UNIT_METHOD_LABELS[round_.unit_method].replace("k", str(round_.unit_k or "k"))
    return ["排名", "单位", label, "报名", "参赛", "参与率", "奖项"]


def ranking_rule(round_: Round, by: str = "participant") -> str:
    """The ranking rule in words, shown above every ranking and prize list that has ties decided."""
    if by == "unit" and not round_.is_team:
        label = UNIT_METHOD_LABELS[round_.unit_method].replace("k", str(round_.unit_k or "k"))
        return f"排名规则：按{label}从高到低；相同者名次并列；无人参赛的单位列在最后。"
    return f"排名规则：得分高者在前，{TIE_RULE}；三者都相同则名次并列。"


def export_table(round_: Round, by: str) -> tuple[list[str], list[list], list[int]]:
    """(headers, rows, column widths) of a leaderboard, ready for CSV or XLSX. The headers are
    the page's column names; scores are numbers formatted like the page (quizapp.formatting)."""
    if by == "unit":
        prize = awarder((round_.prizes or {}).get("unit"))
        rows = []
        for r in unit_leaderboard(round_):
            cells = [r.rank if r.rank is not None else "—", r.name, score_number(r.value)]
            if round_.is_team:
                cells.append(format_duration(r.time_used))
            rows.append(cells + [r.registered, r.took_part, f"{r.participation:.1%}", prize(r.rank)])
        widths = [8, 30, 12, 12, 8, 8, 10, 10] if round_.is_team else [8, 30, 14, 8, 8, 10, 10]
        return unit_headers(round_), rows, widths
    if by == "participant":
        rows = [
            [r.rank if r.rank is not None else "—", r.name, r.username, r.unit, score_number(r.score),
             score_number(r.max_score), format_duration(r.time_used), format_time(r.submitted_at), r.status, r.prize]
            for r in individual_leaderboard(round_)
        ]
        return list(INDIVIDUAL_HEADERS), rows, [8, 12, 16, 30, 8, 8, 12, 20, 10, 10]
    raise ValueError(f"unknown leaderboard: {by}")
