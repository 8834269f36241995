"""Computing a 体检 (quizapp.services.health) as a job, for rounds too large to compute on the
first page view. The report is written by `store_report` in its own single transaction
(replacing any older one), so a killed job leaves the previous report as it was."""
from __future__ import annotations

from ..extensions import db
from ..models import Round
from ..services import ServiceError
from ..services.jobs import JobContext, handler


@handler("health", "计算体检")
def run_health(ctx: JobContext) -> dict:
    from ..services import health

    rounds = [db.session.get(Round, round_id) for round_id in ctx.params["round_ids"]]
    if not rounds or any(r is None for r in rounds):
        raise ServiceError("轮次已被删除")
    for round_ in rounds:
        if round_.status != "closed":
            raise ServiceError(f"「{round_.name}」尚未结束，结束后才能体检")
    ctx.progress(0, 1, "正在计算体检（正确率、题目分析）", force=True)
    report = health.store_report(rounds)
    return {"summary": "体检已计算完成", "round_key": report.round_key}
