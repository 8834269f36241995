"""Opening a round with prepared papers as a job: above INLINE_MAX people drawing would
outlast the request (about 0.5 s per 1,000 papers). The job draws every paper in memory,
then — in one transaction — checks the round is still the draft it drew for, inserts the
papers and opens it. Killed half way, the round is still a draft with no papers."""
from __future__ import annotations

from ..extensions import db
from ..models import Round
from ..services import ServiceError
from ..services.drawing import draw_papers
from ..services.jobs import JobContext, handler
from ..services.rounds import check_can_open, open_with_papers

# Up to this many people a round opens inside the request (about a second of drawing).
INLINE_MAX = 2000


def _settings(round_: Round) -> tuple:
    return (round_.status, round_.seed, round_.draw_mode, repr(round_.rules), round_.avoid_seen, round_.team_scoring)


@handler("round_open", "开放轮次（预先抽取试卷）")
def run_round_open(ctx: JobContext) -> dict:
    round_ = db.session.get(Round, ctx.params["round_id"])
    if round_ is None:
        raise ServiceError("该轮次已被删除")
    check_can_open(round_)
    before = _settings(round_)
    ctx.progress(0, 0, "正在抽取试卷", force=True)
    rows = draw_papers(round_, progress=lambda done, total: ctx.progress(done, total, "正在抽取试卷"))
    ctx.progress(len(rows), len(rows), "正在写入试卷并开放本轮", force=True)
    db.session.refresh(round_, with_for_update=True)  # PostgreSQL: nobody edits or opens it meanwhile
    if _settings(round_) != before:
        raise ServiceError("抽题期间本轮已被修改或已开放，未写入任何试卷；如仍需开放，请重新开放")
    drawn = open_with_papers(round_, rows)
    return {"summary": f"已开放「{round_.name}」，预先抽取 {drawn} 份试卷", "round_id": round_.id, "drawn": drawn}
