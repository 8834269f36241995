"""Setting up, opening and closing rounds, and watching their progress."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from .. import clock
from ..banks.docs import doc_title
from ..extensions import db
from ..models import STAGES, Attempt, Bank, Competition, Question, Round, Team, TeamMember, Unit, User
from ..models.rounds import TEAM_SCORING
from ..papers import SECTION_TYPE_NAMES, Section, available, check_rules, version_problems
from ..ranking import UNIT_METHODS
from ..scoring import DEFAULT_POINTS, MULTIPLE_RULES
from . import ServiceError, audit, entry
from .attempts import sweep_expired
from .drawing import insert_papers, prepare_papers, question_pool
from .units import sorted_units


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
    # Versions (quizapp.papers): draw superseded versions too; let two versions share a paper.
    allow_superseded: bool = False
    allow_mixed_versions: bool = False

    def rules(self) -> list[dict]:
        """The sections as stored, each saying whether it may draw superseded versions."""
        return [Section.from_dict({**s, "include_superseded": self.allow_superseded}).to_dict() for s in self.sections]


class RoundSpecError(ServiceError):
    """The spec's problems, each with the form field it belongs to (`fields`: name → messages)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("；".join(message for _, message in problems))
        self.fields: dict[str, list[str]] = {}
        for name, message in problems:
            self.fields.setdefault(name, []).append(message)


def create_round(spec: RoundSpec) -> Round:
    problems = validate_spec(spec)
    if problems:
        raise RoundSpecError(problems)
    competition = db.session.get(Competition, spec.competition_id)
    if competition is None:
        raise ServiceError("竞赛不存在")
    seq = (db.session.scalar(select(func.max(Round.seq)).filter_by(competition_id=competition.id)) or 0) + 1
    round_ = Round(
        competition_id=competition.id, seq=seq, stage=spec.stage, name=spec.name, status="draft",
        opens_at=spec.opens_at, closes_at=spec.closes_at, time_limit_minutes=spec.time_limit_minutes,
        rules=spec.rules(), allow_superseded=spec.allow_superseded, allow_mixed_versions=spec.allow_mixed_versions,
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
        raise RoundSpecError(problems)
    before = audit.round_settings(round_)
    if round_.status != "draft":
        if spec.name == round_.name:
            raise ServiceError("轮次开放后只能修改名称")
        round_.name = spec.name
    else:
        for key in ("stage", "name", "opens_at", "closes_at", "time_limit_minutes", "multiple_rule",
                    "partial_fraction", "draw_mode", "show_score", "unit_method", "unit_k", "avoid_seen",
                    "allow_superseded", "allow_mixed_versions"):
            setattr(round_, key, getattr(spec, key))
        round_.rules = spec.rules()
        round_.points = {**DEFAULT_POINTS, **(spec.points or {})}
        round_.team_size = spec.team_size or None
        round_.team_scoring = (spec.team_scoring or "shared") if spec.team_size else None
    audit.record("round.edit", round_.name, "修改轮次设置", before=before, after=audit.round_settings(round_))
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


def validate_spec(spec: RoundSpec) -> list[tuple[str, str]]:
    """Problems as (form field name, Chinese message); empty when the spec is valid."""
    problems = []
    if not spec.name.strip():
        problems.append(("name", "轮次名称不能为空"))
    if spec.stage not in STAGES:
        problems.append(("stage", "阶段应为初赛、复赛或决赛"))
    if spec.closes_at <= spec.opens_at:
        problems.append(("closes_at", "结束时间必须晚于开始时间"))
    if not 1 <= spec.time_limit_minutes <= 600:
        problems.append(("time_limit_minutes", "答题时长应在 1–600 分钟之间"))
    if not spec.sections or sum(int(s["count"]) for s in spec.sections) < 1:
        problems.append(("count_single", "试卷至少要有 1 道题"))
    if any(int(s["count"]) < 0 for s in spec.sections):
        problems.append(("count_single", "题目数量不能为负数"))
    if spec.multiple_rule not in MULTIPLE_RULES:
        problems.append(("multiple_rule", "多选题计分规则无效"))
    if spec.draw_mode not in ("random", "fixed"):
        problems.append(("draw_mode", "组卷方式无效"))
    if spec.team_size is not None and spec.team_size and not 1 <= spec.team_size <= 10:
        problems.append(("team_size", "每队人数应在 1–10 之间"))
    if spec.team_size and (spec.team_scoring or "shared") not in TEAM_SCORING:
        problems.append(("team_scoring", "团体赛计分方式无效"))
    if spec.unit_method not in UNIT_METHODS:
        problems.append(("unit_method", "单位排名方式无效"))
    elif spec.unit_method == "best_k" and not spec.unit_k:
        problems.append(("unit_k", "取前 k 名平均分时必须填写 k"))
    return problems


def rule_availability(round_: Round) -> list[tuple[Section, int]]:
    return available([Section.from_dict(s) for s in round_.rules], question_pool())


def check_can_open(round_: Round) -> None:
    """Raise ServiceError unless `round_` is a draft whose paper rules the banks can satisfy."""
    if round_.status != "draft":
        raise ServiceError("只有未开放的轮次可以开放")
    sections, pool = [Section.from_dict(s) for s in round_.rules], question_pool()
    problems = version_problems(sections, pool, round_.allow_mixed_versions)
    if problems:
        raise ServiceError("组卷规则不能开放：" + "；".join(problems))
    shortfalls = check_rules(sections, pool)
    if shortfalls:
        raise ServiceError("题库不足，不能开放：" + "；".join(shortfalls))


def open_round(round_: Round) -> int:
    """Open a draft round for starts and draw the paper of everyone who may take it, in one
    transaction (so 开始 at the start time only fetches the prepared paper). Refused when the
    banks cannot satisfy its paper rules. Returns the number of papers drawn. (The organizer's
    page opens large rounds with a background job instead: quizapp.jobs.rounds.)"""
    check_can_open(round_)
    round_.status = "open"
    drawn = prepare_papers(round_)
    audit.record("round.open", round_.name, f"开放本轮，预先抽取 {drawn} 份试卷" if drawn else "开放本轮")
    db.session.commit()
    return drawn


def open_with_papers(round_: Round, rows: list[dict]) -> int:
    """Open `round_` with the prepared_paper rows a job drew ahead (drawing.draw_papers). The
    same checks as `open_round`; no commit (the job commits it with its own state)."""
    check_can_open(round_)
    round_.status = "open"
    drawn = insert_papers(rows)
    audit.record("round.open", round_.name, f"开放本轮，预先抽取 {drawn} 份试卷（后台任务）")
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


@dataclass
class RoundProgress:
    """The round page's figures: per unit, totals, and who has not started (unit-list order)."""

    units: list[UnitProgress]
    totals: dict[str, int]
    waiting: list[User]


def round_progress(round_: Round, group: str | None = None) -> RoundProgress:
    """Progress of `round_`, optionally only of units in `group`. Units nobody may take the
    round for are left out (in a team round: units without a team). In a shared-paper team
    round every member counts as answering or done when the team's paper is."""
    sweep_expired(round_.id)
    units = [u for u in sorted_units() if not group or u.group_name == group]
    status_of = _team_member_status(round_) if round_.is_team else None
    if status_of is not None:
        members = [(m, unit_id) for m, unit_id in status_of["members"] if any(u.id == unit_id for u in units)]
        rows = _count_rows(units, [(unit_id, status_of["status"].get(m.id)) for m, unit_id in members])
        waiting = [m for m, _ in members if status_of["status"].get(m.id) is None]
    else:
        registered = entry.registered_by_unit(round_)
        started = {user_id: status for user_id, status in db.session.execute(
            select(Attempt.user_id, Attempt.status).where(Attempt.round_id == round_.id))}
        people = db.session.scalars(entry.eligible_people(round_)).all()
        counted = [(p.unit_id, started.get(p.id)) for p in people]
        # Someone who started and was later disabled or removed still counts where they answered.
        eligible_ids = {p.id for p in people}
        extra = [uid for uid in started if uid not in eligible_ids]
        if extra:
            counted += [(unit_id, started[uid]) for uid, unit_id in db.session.execute(
                select(User.id, User.unit_id).where(User.id.in_(extra)))]
        rows = _count_rows(units, counted, registered)
        waiting = [p for p in people if p.id not in started]
    position = {u.id: i for i, u in enumerate(units)}
    waiting = sorted((p for p in waiting if p.unit_id in position), key=lambda p: (position[p.unit_id], p.username))
    totals = {key: sum(getattr(r, key) for r in rows) for key in ("registered", "not_started", "in_progress", "finished")}
    return RoundProgress(rows, totals, waiting)


def progress_by_unit(round_: Round) -> list[UnitProgress]:
    """Per unit: registered participants and how many have not started, are answering, are done."""
    return round_progress(round_).units


def _count_rows(units: list[Unit], people: list[tuple[int | None, str | None]],
                registered: dict[int, int] | None = None) -> list[UnitProgress]:
    counts: dict[int, dict[str | None, int]] = {}
    for unit_id, status in people:
        bucket = counts.setdefault(unit_id, {})
        bucket[status] = bucket.get(status, 0) + 1
    rows = []
    for unit in units:
        bucket = counts.get(unit.id, {})
        doing = bucket.get("in_progress", 0)
        done = bucket.get("submitted", 0) + bucket.get("expired", 0)
        total = registered.get(unit.id, 0) if registered is not None else sum(bucket.values())
        if not (total or doing or done):
            continue
        rows.append(UnitProgress(unit, total, max(0, total - doing - done), doing, done))
    return rows


def _team_member_status(round_: Round) -> dict:
    """Every team member with their unit, and each member's attempt status (None: not started);
    in a shared-paper round a member takes the status of the team's paper."""
    members = db.session.execute(
        select(User, Team.unit_id, Team.id).join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, TeamMember.team_id == Team.id).where(Team.round_id == round_.id)).all()
    attempts = db.session.execute(select(Attempt.user_id, Attempt.team_id, Attempt.status)
                                  .where(Attempt.round_id == round_.id)).all()
    by_user = {user_id: status for user_id, _, status in attempts}
    by_team = {team_id: status for _, team_id, status in attempts if team_id}
    status = {}
    for user, _, team_id in members:
        status[user.id] = by_team.get(team_id) if round_.team_scoring == "shared" and team_id in by_team else by_user.get(user.id)
    return {"members": [(user, unit_id) for user, unit_id, _ in members], "status": status}


def paper_total(round_: Round) -> float:
    """The paper's full marks as set: each section's count × its type's points."""
    return sum(int(s["count"]) * float(round_.points.get(s["type"], 0)) for s in round_.rules)


def doc_choices() -> list[tuple[str, str]]:
    """The round form's 出题范围 options: every cited source with its document's version, a
    superseded one marked so an organizer sees what choosing it means."""
    rows = db.session.execute(
        select(Question.source_doc, func.min(case((Bank.in_force.is_(True), 1), else_=0)))
        .join(Bank, Bank.id == Question.bank_id).where(Question.is_current.is_(True)).group_by(Question.source_doc)
    ).all()
    return [(doc, doc_title(doc) + ("" if in_force else "（已失效版本）")) for doc, in_force in sorted(rows)]


def rule_version_problems(sections: list[dict], allow_superseded: bool, allow_mixed: bool) -> list[str]:
    """What the versions rule says of these sections as the form would store them."""
    parsed = [Section.from_dict({**s, "include_superseded": allow_superseded}) for s in sections]
    return version_problems(parsed, question_pool(), allow_mixed)


def sections_availability(sections: list[dict]) -> list[dict]:
    """For the round form as it is edited: per section, its type (code and Chinese), how many
    questions it needs and how many the current banks have for it."""
    rows = []
    for section, count in available([Section.from_dict(s) for s in sections], question_pool()):
        rows.append({"type": section.type, "label": SECTION_TYPE_NAMES.get(section.type, "其他题型"),
                     "need": section.count, "available": count, "short": count < section.count})
    return rows


# The usual three rounds of a new competition, as drafts to adjust (days after creation, hours).
DEFAULT_ROUNDS = (
    ("初赛", 7, (9, 17), 30, {"single": 20, "multiple": 10, "judge": 15, "fill": 5}, {}),
    ("复赛", 14, (9, 11), 60, {"single": 30, "multiple": 15, "judge": 20, "fill": 10}, {}),
    ("决赛", 21, (9, 11), 30, {"single": 10, "multiple": 10, "judge": 10, "fill": 5},
     {"team_size": 3, "team_scoring": "sum"}),
)


def create_competition(name: str, with_rounds: bool = True) -> Competition:
    """A competition, with draft 初赛/复赛/决赛 rounds (dates a week apart from next week, to be
    adjusted) unless `with_rounds` is False. One transaction."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ServiceError("竞赛名称不能为空，且不超过 200 字")
    competition = Competition(name=name)
    db.session.add(competition)
    db.session.flush()
    audit.record("competition.create", name, "新建竞赛" + ("，含初赛、复赛、决赛三个轮次" if with_rounds else ""))
    if with_rounds:
        today = clock.to_local(clock.now()).replace(hour=0, minute=0, second=0, microsecond=0)
        for seq, (stage, days, (start, end), minutes, counts, extra) in enumerate(DEFAULT_ROUNDS, start=1):
            day = today + timedelta(days=days)
            db.session.add(Round(
                competition_id=competition.id, seq=seq, stage=stage, name=stage, status="draft",
                opens_at=clock.from_local(day.replace(hour=start)), closes_at=clock.from_local(day.replace(hour=end)),
                time_limit_minutes=minutes, rules=[{"type": t, "count": n} for t, n in counts.items()],
                points=dict(DEFAULT_POINTS), seed=secrets.token_hex(8), team_size=extra.get("team_size"),
                team_scoring=extra.get("team_scoring")))
    db.session.commit()
    return competition


def next_stage(competition: Competition) -> str:
    """The stage a new round of `competition` most likely is: the first of 初赛/复赛/决赛 not used."""
    used = {r.stage for r in competition.rounds}
    return next((stage for stage in STAGES if stage not in used), STAGES[-1])
