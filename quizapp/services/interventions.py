"""Exceptions during a round, each recorded with who, when and why: extending one person's
time, reopening a submitted attempt, invalidating an attempt (cheating)."""
from __future__ import annotations

from datetime import timedelta

from .. import clock
from ..extensions import db
from ..models import Attempt
from . import ServiceError, audit
from .attempts import rescore


def _target(attempt: Attempt) -> str:
    return f"{attempt.round.name} · {attempt.user.name}（{attempt.user.username}）"


def _need_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise ServiceError("请填写原因")
    return reason.strip()


def extend(attempt: Attempt, minutes: int, reason: str) -> None:
    """Give an attempt in progress `minutes` more (not past the round's closing time)."""
    reason = _need_reason(reason)
    if attempt.finished:
        raise ServiceError("已交卷的试卷不能延时，请使用“重新开放”")
    if not 1 <= minutes <= 240:
        raise ServiceError("延长时间应在 1–240 分钟之间")
    before = attempt.deadline_at
    attempt.deadline_at = min(before + timedelta(minutes=minutes), attempt.round.closes_at)
    if attempt.deadline_at <= before:
        raise ServiceError("已到本轮结束时间，不能再延长")
    audit.record("attempt.extend", _target(attempt), f"延长 {minutes} 分钟：{reason}",
                 before=clock.to_local(before).isoformat(" ", "seconds"),
                 after=clock.to_local(attempt.deadline_at).isoformat(" ", "seconds"))
    db.session.commit()


def reopen(attempt: Attempt, minutes: int, reason: str) -> None:
    """Let a finished attempt take answers again for `minutes` (its answers so far are kept)."""
    reason = _need_reason(reason)
    if not attempt.finished:
        raise ServiceError("试卷尚未交卷，无需重新开放")
    now = clock.now()
    deadline = min(now + timedelta(minutes=minutes), attempt.round.closes_at)
    if attempt.round.status != "open" or deadline <= now:
        raise ServiceError("本轮已结束，不能重新开放试卷")
    before = {"status": attempt.status, "score": attempt.score}
    attempt.status, attempt.submitted_at, attempt.deadline_at = "in_progress", None, deadline
    attempt.score = attempt.time_used = None
    audit.record("attempt.reopen", _target(attempt), f"重新开放 {minutes} 分钟：{reason}", before=before)
    db.session.commit()


def invalidate(attempt: Attempt, reason: str) -> None:
    """Mark the attempt invalid (cheating): it scores 0 and is marked in every list."""
    reason = _need_reason(reason)
    if attempt.invalidated_at:
        raise ServiceError("该成绩已作废")
    before = attempt.score
    if not attempt.finished:
        attempt.status, attempt.submitted_at = "submitted", clock.now()
    attempt.invalidated_at, attempt.invalid_reason = clock.now(), reason
    rescore(attempt)
    audit.record("attempt.invalidate", _target(attempt), f"作废成绩：{reason}", before=before, after=0)
    db.session.commit()
