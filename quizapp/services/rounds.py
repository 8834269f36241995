"""Setting up, opening and closing rounds, and watching their progress."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..models import Attempt, Competition, Round, Team, Unit, User
from ..models.rounds import TEAM_SCORING
from ..papers import Section, available, check_rules
from ..ranking import UNIT_METHODS
from ..scoring import DEFAULT_POINTS, MULTIPLE_RULES
from . import ServiceError, audit, entry
from .attempts import sweep_expired
from .drawing import prepare_papers, question_pool


@dataclass
class RoundSpec:
    """Everything an organizer sets for a round; validated by `create_round`."""

    competition_id: int
    stage: str
    name: str
    opens_at: datetime
    closes_at: datetime
    time_limit_minutes: int
    sections: list[dict]
    points: dict | None = None
    multiple_rule: str = "all_or_nothing"
    partial_fraction: float = 0.5
    draw_mode: str = "random"
    show_score: str = "after_close"
    unit_method: str = "mean"
    unit_k: int | None = None
    avoid_seen: bool = True
    team_size: int | None = None
    team_scoring: str | None = None


def create_round(spec: RoundSpec) -> Round:
    problems = validate_spec(spec)
    if problems:
        raise ServiceError("；".join(problems))
    competition = db.session.get(Competition, spec.competition_id)
    if competition is None:
        raise ServiceError("竞赛不存在")
    seq = (db.session.scalar(select(func.max(Round.seq)).filter_by(competition_id=competition.id)) or 0) + 1
    round_ = Round(
        competition_id=competition.id, seq=seq, stage=spec.stage, name=spec.name, status="draft",
        opens_at=spec.opens_at, closes_at=spec.closes_at, time_limit_minutes=spec.time_limit_minutes,
        rules=[Section.from_dict(s).to_dict() for s in spec.sections],
        points={**DEFAULT_POINTS, **(spec.points or {})}, multiple_rule=spec.multiple_rule,
        partial_fraction=spec.partial_fraction, draw_mode=spec.draw_mode, seed=secrets.token_hex(8),
        show_score=spec.show_score, unit_method=spec.unit_method, unit_k=spec.unit_k,
        avoid_seen=spec.avoid_seen, team_size=spec.team_size or None,
        team_scoring=(spec.team_scoring or "shared") if spec.team_size else None,
    )
    db.session.add(round_)
    db.session.flush()
    audit.record("round.create", round_.name, f"新建{round_.stage}轮次，{round_.question_count} 题，"
                 f"{round_.time_limit_minutes} 分钟", rules=round_.rules, points=round_.points)
    db.session.commit()
    return round_


def update_round(round_: Round, spec: RoundSpec) -> None:
    """Change a round's settings. Once it has opened only its name may change."""
    problems = validate_spec(spec)
    if problems:
        raise ServiceError("；".join(problems))
    before = {"name": round_.name, "opens_at": str(round_.opens_at), "closes_at": str(round_.closes_at)}
    if round_.status != "draft":
        if spec.name == round_.name:
            raise ServiceError("轮次开放后只能修改名称")
        round_.name = spec.name
    else:
        for key in ("stage", "name", "opens_at", "closes_at", "time_limit_minutes", "multiple_rule",
                    "partial_fraction", "draw_mode", "show_score", "unit_method", "unit_k", "avoid_seen"):
            setattr(round_, key, getattr(spec, key))
        round_.rules = [Section.from_dict(s).to_dict() for s in spec.sections]
        round_.points = {**DEFAULT_POINTS, **(spec.points or {})}
        round_.team_size = spec.team_size or None
        round_.team_scoring = (spec.team_scoring or "shared") if spec.team_size else None
    audit.record("round.edit", round_.name, "修改轮次设置", before=before,
                 after={"name": round_.name, "opens_at": str(round_.opens_at), "closes_at": str(round_.closes_at)})
    db.session.commit()


def delete_round(round_: Round) -> None:
    """Remove a round that never opened and has no attempts."""
    if round_.status != "draft" or db.session.scalar(select(Attempt.id).filter_by(round_id=round_.id).limit(1)):
        raise ServiceError("只能删除尚未开放、没有答题记录的轮次")
    for team in db.session.scalars(select(Team).filter_by(round_id=round_.id)):
        db.session.delete(team)
    audit.record("round.delete", round_.name, f"删除{round_.stage}轮次")
    db.session.delete(round_)
    db.session.commit()


def validate_spec(spec: RoundSpec) -> list[str]:
    problems = []
    if not spec.name.strip():
        problems.append("轮次名称不能为空")
    if spec.closes_at <= spec.opens_at:
        problems.append("结束时间必须晚于开始时间")
    if not 1 <= spec.time_limit_minutes <= 600:
        problems.append("答题时长应在 1–600 分钟之间")
    if not spec.sections or sum(int(s["count"]) for s in spec.sections) < 1:
        problems.append("试卷至少要有 1 道题")
    if any(int(s["count"]) < 0 for s in spec.sections):
        problems.append("题目数量不能为负数")
    if spec.multiple_rule not in MULTIPLE_RULES:
        problems.append("多选题计分规则无效")
    if spec.draw_mode not in ("random", "fixed"):
        problems.append("组卷方式无效")
    if spec.team_size is not None and spec.team_size and not 1 <= spec.team_size <= 10:
        problems.append("每队人数应在 1–10 之间")
    if spec.team_size and (spec.team_scoring or "shared") not in TEAM_SCORING:
        problems.append("团体赛计分方式无效")
    if spec.unit_method not in UNIT_METHODS or (spec.unit_method == "best_k" and not spec.unit_k):
        problems.append("单位排名方式无效（取前 k 名平均时必须填写 k）")
    return problems


def rule_availability(round_: Round) -> list[tuple[Section, int]]:
    return available([Section.from_dict(s) for s in round_.rules], question_pool())


def open_round(round_: Round) -> int:
    """Open a draft round for starts and draw the paper of everyone who may take it, in one
    transaction (so 开始 at the start time only fetches the prepared paper). Refused when the
    banks cannot satisfy its paper rules. Returns the number of papers drawn."""
    if round_.status != "draft":
        raise ServiceError("只有未开放的轮次可以开放")
    shortfalls = check_rules([Section.from_dict(s) for s in round_.rules], question_pool())
    if shortfalls:
        raise ServiceError("题库不足，不能开放：" + "；".join(shortfalls))
    round_.status = "open"
    drawn = prepare_papers(round_)
    audit.record("round.open", round_.name, f"开放本轮，预先抽取 {drawn} 份试卷" if drawn else "开放本轮")
    db.session.commit()
    return drawn


def close_round(round_: Round, reason: str = "") -> int:
    """Close the round now: no new starts, open attempts end now and are scored.
    Closing before the scheduled time is recorded with `reason`.
    Returns the number of attempts finalized by closing."""
    if round_.status != "open":
        raise ServiceError("只有进行中的轮次可以结束")
    now = clock.now()
    round_.status = "closed"
    early = round_.closes_at > now
    audit.record("round.close", round_.name, ("提前结束：" + (reason or "未说明原因")) if early else "按时结束",
                 scheduled_close=clock.to_local(round_.closes_at).isoformat(" ", "minutes"))
    if early:
        round_.closes_at = now
    db.session.execute(
        Attempt.__table__.update()
        .where(Attempt.round_id == round_.id, Attempt.status == "in_progress", Attempt.deadline_at > now)
        .values(deadline_at=now)
    )
    db.session.commit()
    return sweep_expired(round_.id)


def publish(round_: Round, published: bool = True) -> None:
    """Publish (or withdraw) the round's results to participants. Only a closed round's."""
    if published and round_.status != "closed":
        raise ServiceError("本轮结束后才能公布成绩")
    round_.published_at = clock.now() if published else None
    audit.record("round.publish" if published else "round.unpublish", round_.name,
                 "公布成绩" if published else "撤回已公布的成绩")
    db.session.commit()


def answers_released(round_: Round) -> bool:
    """Scores, correct answers, explanations and citations reach participants only once the
    round is over and the organizer has published its results."""
    over = round_.status == "closed" or (round_.status == "open" and clock.now() >= round_.closes_at)
    return over and round_.published_at is not None


@dataclass
class UnitProgress:
    unit: Unit
    registered: int
    not_started: int
    in_progress: int
    finished: int


def progress_by_unit(round_: Round) -> list[UnitProgress]:
    """Per unit: registered participants and how many have not started, are answering, are done."""
    sweep_expired(round_.id)
    registered = entry.registered_by_unit(round_)
    counts: dict[tuple[int, str], int] = {
        (unit_id, status): n for unit_id, status, n in db.session.execute(
            select(User.unit_id, Attempt.status, func.count()).join(User, Attempt.user_id == User.id)
            .where(Attempt.round_id == round_.id).group_by(User.unit_id, Attempt.status)
        )
    }
    rows = []
    for unit in db.session.scalars(select(Unit).order_by(Unit.id)):
        total = registered.get(unit.id, 0)
        doing = counts.get((unit.id, "in_progress"), 0)
        done = counts.get((unit.id, "submitted"), 0) + counts.get((unit.id, "expired"), 0)
        rows.append(UnitProgress(unit, total, max(0, total - doing - done), doing, done))
    return rows
