"""Advancement between rounds: preview, confirm (with manual changes), undo, export.

Confirming writes the next round's entrants and makes it restricted to them; in a team round
it also forms the teams, best previous rank first. Until the next round opens, confirming
again replaces the list and undoing removes it.
"""
from __future__ import annotations

from sqlalchemy import select

from .. import clock
from ..advancement import Candidate, Decision, Rule, preview
from ..extensions import db
from ..models import Attempt, Round, RoundEntrant, Team, Unit, User
from . import ServiceError, audit
from .attempts import sweep_expired
from .results import unit_leaderboard
from .teams import form_teams


def candidates(round_: Round) -> list[Candidate]:
    sweep_expired(round_.id)
    rows = db.session.execute(
        select(Attempt, User, Unit.name).join(User, Attempt.user_id == User.id).outerjoin(Unit, User.unit_id == Unit.id)
        .where(Attempt.round_id == round_.id, Attempt.status != "in_progress")
    )
    return [Candidate(user.id, user.name, unit or "", round(attempt.score or 0, 2), attempt.time_used or 0,
                      attempt.submitted_at, invalid=attempt.invalidated_at is not None)
            for attempt, user, unit in rows]


def next_round(round_: Round) -> Round | None:
    return db.session.scalar(select(Round).where(Round.competition_id == round_.competition_id,
                                                 Round.seq > round_.seq).order_by(Round.seq))


def parse_manual(text: str) -> dict[str, str]:
    """Lines of "准考证号 理由" → {admission number: reason}. Raises ServiceError without a reason."""
    entries = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        if len(parts) < 2:
            raise ServiceError(f"手动调整第 {number} 行缺少理由：{line.strip()}")
        entries[parts[0]] = parts[1].strip()
    return entries


def plan(source: Round, rule: Rule, add: dict[str, str], remove: dict[str, str]) -> tuple[list[Decision], list[tuple[User, str]]]:
    """The preview with manual changes applied: decisions (removals marked not qualified, with
    the reason) and the people added by hand. Raises ServiceError for unknown numbers."""
    if rule.is_empty():
        raise ServiceError("请至少设置一个晋级条件")
    unit_ranks = None
    if rule.top_units:
        unit_ranks = {row.name: row.rank for row in unit_leaderboard(source)}
    decisions = preview(candidates(source), rule, unit_ranks)
    by_number = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(list(add) + list(remove))))}
    unknown = [n for n in list(add) + list(remove) if n not in by_number]
    if unknown:
        raise ServiceError("准考证号不存在：" + "、".join(unknown))
    removed_ids = {by_number[n].id: reason for n, reason in remove.items()}
    for d in decisions:
        if d.candidate.key in removed_ids and d.qualified:
            d.qualified = False
            d.reasons.append(f"组织者手动移除：{removed_ids[d.candidate.key]}")
    already = {d.candidate.key for d in decisions if d.qualified}
    added = [(by_number[n], reason) for n, reason in add.items() if by_number[n].id not in already]
    return decisions, added


def confirm(source: Round, target: Round, rule: Rule, add: dict[str, str], remove: dict[str, str]) -> int:
    """Write `target`'s entrants from the plan; returns how many advanced."""
    if target.status != "draft":
        raise ServiceError("下一轮已开放，不能再调整晋级名单")
    decisions, added = plan(source, rule, add, remove)
    for entrant in list(target.entrants):
        db.session.delete(entrant)
    db.session.flush()
    chosen = [d for d in decisions if d.qualified]
    for d in chosen:
        db.session.add(RoundEntrant(round_id=target.id, user_id=d.candidate.key, via="rule", reason=d.reason))
    for user, reason in added:
        db.session.add(RoundEntrant(round_id=target.id, user_id=user.id, via="manual", reason=f"组织者手动增加：{reason}"))
    target.restricted = True
    target.advancement = {"from": source.id, "rule": rule.to_dict(), "add": add, "remove": remove,
                          "confirmed_at": clock.now().isoformat()}
    db.session.flush()
    if target.is_team:
        form_teams(target, order=[d.candidate.key for d in chosen] + [u.id for u, _ in added])
    count = len(chosen) + len(added)
    audit.record("advance.confirm", f"{source.name} → {target.name}", f"{rule.describe()}：晋级 {count} 人",
                 rule=rule.to_dict(), added=add, removed=remove)
    db.session.commit()
    return count


def undo(target: Round) -> None:
    if target.status != "draft":
        raise ServiceError("下一轮已开放，不能撤销晋级")
    if not target.restricted:
        raise ServiceError("本轮没有晋级名单")
    for entrant in list(target.entrants):
        db.session.delete(entrant)
    for team in db.session.scalars(select(Team).filter_by(round_id=target.id)):
        db.session.delete(team)
    target.restricted, target.advancement = False, None
    audit.record("advance.undo", target.name, "撤销晋级名单")
    db.session.commit()


def qualified_table(target: Round) -> tuple[list[str], list[list], list[int]]:
    """The entrants of `target` for export and printing, in previous-round order where known."""
    headers = ["序号", "姓名", "准考证号", "单位", "晋级方式", "理由"]
    rows = db.session.execute(
        select(RoundEntrant, User, Unit.name).join(User, RoundEntrant.user_id == User.id)
        .outerjoin(Unit, User.unit_id == Unit.id).where(RoundEntrant.round_id == target.id)
        .order_by(RoundEntrant.id)
    ).all()
    table = [[i, user.name, user.username, unit or "", "规则" if e.via == "rule" else "手动", e.reason]
             for i, (e, user, unit) in enumerate(rows, start=1)]
    return headers, table, [6, 12, 16, 30, 10, 60]
