"""A participant's own 体检 after a round is published: rank in the county and in the unit,
晋级 / 未晋级 with the reason, accuracy per document beside the county's, and the article text of
each missed question. Call it only when the round's results are released (the view checks
quizapp.services.release); it reads the person's own answers and the kept county report."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from ..banks.docs import doc_title
from ..extensions import db
from ..models import Attempt, HealthReport, Round, RoundEntrant
from ..rules.statistics import Cell, accuracy_grid, county_row
from . import health, health_views
from .lobby import _advancement_reason, _ranks


def _advancement(round_: Round, attempt: Attempt) -> tuple[str, str] | None:
    """("晋级", reason) or ("未晋级", reason) for the round that took its entrants from this one."""
    following = [r for r in db.session.scalars(select(Round).where(Round.competition_id == round_.competition_id))
                 if (r.advancement or {}).get("from") == round_.id]
    if not following:
        return None
    target = following[0]
    entrant = db.session.scalar(select(RoundEntrant).filter_by(round_id=target.id, user_id=attempt.user_id))
    if entrant is not None:
        return "晋级", f"已晋级{target.name}" + (f"（{entrant.reason}）" if entrant.reason else "")
    return "未晋级", _advancement_reason(target, attempt.user)


def person_health(attempt: Attempt, items) -> dict:
    """Figures for the result page; `items` are the page's result items (quizapp.participant.view_models)."""
    round_ = attempt.round
    rank, unit_rank = (None, None) if attempt.invalidated_at or round_.is_team else _ranks(round_, attempt.user)
    kept = db.session.scalar(select(HealthReport).filter_by(round_key=health.round_key([round_.id])))
    county = {}
    if kept is not None and not kept.stale:
        grid = accuracy_grid((u, d, t, n) for u, cols in kept.payload["by_doc"].items() for d, (t, n) in cols.items())
        county = {doc: cell.accuracy for doc, cell in county_row(grid).items()}
    mine: dict = defaultdict(lambda: [0.0, 0])
    articles = {}
    for item in items:
        if not item.full:
            continue  # a voided question that left the total
        mine[item.source_doc][0] += (item.points or 0) / item.full
        mine[item.source_doc][1] += 1
        if (item.points or 0) < item.full:
            articles[item.quiz.position] = health_views.article_text(item.source_doc, item.source_article)
    docs = [{"title": doc_title(doc), "mine": Cell(total, n).accuracy, "answers": n, "county": county.get(doc)}
            for doc, (total, n) in sorted(mine.items(), key=lambda kv: doc_title(kv[0]))]
    return {"rank": rank, "unit_rank": unit_rank, "advancement": _advancement(round_, attempt), "docs": docs,
            "articles": articles, "county_ready": bool(county)}
