"""The audit log. `record` adds an event to the caller's transaction, so an action and its
audit entry are committed together or not at all."""
from __future__ import annotations

from flask import g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import select

from .. import audit_text, clock
from ..extensions import db
from ..models import AuditEvent

ACTIONS = {
    "bank.import": "导入题库", "question.disable": "停用题目", "question.enable": "启用题目",
    "question.correct": "更正答案", "question.void": "作废题目",
    "roster.import": "导入名单", "person.edit": "修改人员", "person.disable": "停用人员", "person.enable": "启用人员",
    "person.reset_password": "重置密码", "unit.group": "单位分组", "unit.bulk": "编辑单位", "setting.edit": "修改设置", "competition.create": "新建竞赛", "person.create_liaison": "设置联络员",
    "round.create": "新建轮次", "round.edit": "修改轮次", "round.delete": "删除轮次", "round.open": "开放轮次",
    "round.close": "结束轮次", "round.publish": "公布成绩", "round.unpublish": "撤回公布", "round.prizes": "设置奖项",
    "attempt.extend": "延长时间", "attempt.reopen": "重新开放试卷", "attempt.invalidate": "作废成绩",
    "advance.confirm": "确认晋级", "advance.undo": "撤销晋级", "team.form": "组建队伍",
    "final.create": "创建现场决赛", "final.swap": "决赛换题", "final.begin": "决赛开始", "final.adjust": "决赛调分",
    "final.tiebreak": "决赛加赛", "final.finish": "决赛结束", "final.refused": "拒绝决赛操作",
}


def actor_id() -> int | None:
    """The signed-in organizer; in a background job, the one who started it (quizapp.services.jobs)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return g.get("job_actor_id") if has_app_context() else None


def record(action: str, target: str, summary: str, **details) -> AuditEvent:
    """Add one audit event (no commit). `details` may carry before/after values."""
    event = AuditEvent(at=clock.now(), actor_id=actor_id(), action=action, target=target,
                       summary=summary, details=details)
    db.session.add(event)
    return event


ROUND_SETTINGS = ("name", "stage", "opens_at", "closes_at", "time_limit_minutes", "multiple_rule", "partial_fraction",
                  "draw_mode", "show_score", "unit_method", "unit_k", "avoid_seen", "team_size", "team_scoring",
                  "allow_superseded", "allow_mixed_versions", "rules", "points")


def round_settings(round_) -> dict:
    """A round's settings as JSON values for `record(before=…, after=…)`, so the log can say what
    an edit changed (quizapp.audit_text shows only the differences; times stay UTC here)."""
    values = {}
    for key in ROUND_SETTINGS:
        if not hasattr(round_, key):
            continue
        value = getattr(round_, key)
        values[key] = value.isoformat(" ") if hasattr(value, "isoformat") else value
    return values


def recent(limit: int = 200, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


HEADERS = ["时间", "操作人", "操作", "对象", "内容"]


def describe(event: AuditEvent) -> str:
    """The event as one Chinese sentence (quizapp.audit_text), the same on the page and in the export."""
    return audit_text.describe(event.action, event.target, event.summary, event.details,
                               ACTIONS.get(event.action, event.action))


def export_table(events: list[AuditEvent]) -> tuple[list[str], list[list], list[int]]:
    """(headers, rows, widths) of the log: the page's columns, times in 北京时间."""
    rows = [
        [clock.to_local(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.actor.name if e.actor else "命令行",
         ACTIONS.get(e.action, e.action), e.target, describe(e)]
        for e in events
    ]
    return list(HEADERS), rows, [20, 14, 12, 30, 90]
