"""The 体检 (health check) of one round or several rounds: computed by the database, kept in
the `health_report` table, shown by quizapp.organizer.health.

What counts: every finalized, valid (not invalidated) attempt of the rounds, and each of its
answers at the points stored on it — which every answer-key correction re-scores
(quizapp.services.corrections) — as a fraction of that question's points in its round.
Voided questions (作废, "award" or "drop") are left out of every accuracy and item figure:
points given to everyone say nothing about what people know. Paper-level figures (mean,
median, SD, histogram, alpha) use the attempts' stored scores, which already follow the
correction's rule (everyone gets the points, or the question leaves the total).

Every sum over answers is a GROUP BY in the database (a 50,000 × 100 round is five million
rows); Python only sees one row per unit × chapter, per question, per question × response
and per attempt. The figures themselves come from quizapp.rules.statistics.

A report is computed once (on the first request after publication, or by a job) and kept;
`invalidate_reports()` marks every kept report stale after a correction, so the next read
computes it again.
"""
from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import Float, Text, case, cast, delete, func, select, update

from ..banks.docs import doc_title
from ..clock import utcnow
from ..extensions import db
from ..models import Attempt, AttemptItem, HealthReport, Question, Round, Unit, User
from ..rules.statistics import (
    ItemSums, alpha_from_variances, item_statistics, most_chosen_wrong, option_shares, paper_statistics,
    population_variance, variance_from_sums,
)
from ..scoring import DEFAULT_POINTS
from . import ServiceError
from .drawing import scoring_rules
from .entry import registered_by_unit
from .units import unit_sort_key

REPORT_VERSION = 1
EPS = 1e-9


def round_key(round_ids) -> str:
    return ",".join(str(i) for i in sorted(set(round_ids)))


def parse_round_ids(text: str | None) -> list[int]:
    """Round ids from "3,5,7" (the page's query parameter); [] for anything malformed."""
    ids = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part.isdigit() or not 0 < int(part) < 2**31:
            return []
        ids.append(int(part))
    return sorted(set(ids))[:20]


def get_report(rounds: list[Round], compute: bool = True) -> HealthReport | None:
    """The kept report of these rounds, computed first if there is none or it is stale (and
    `compute`). Raises ServiceError for a round that is not closed yet."""
    for round_ in rounds:
        if round_.status != "closed":
            raise ServiceError(f"「{round_.name}」尚未结束，结束后才能体检")
    report = db.session.scalar(select(HealthReport).filter_by(round_key=round_key(r.id for r in rounds)))
    if (report is None or report.stale or (report.payload or {}).get("version") != REPORT_VERSION) and compute:
        report = store_report(rounds)
    return report


def store_report(rounds: list[Round]) -> HealthReport:
    """Compute and keep the report (replacing an older one) in one transaction."""
    payload = compute_payload(rounds)
    key = round_key(r.id for r in rounds)
    db.session.execute(delete(HealthReport).where(HealthReport.round_key == key))
    report = HealthReport(round_key=key, round_ids=sorted(r.id for r in rounds), payload=payload, stale=False,
                          computed_at=utcnow())
    db.session.add(report)
    db.session.commit()
    return report


def invalidate_reports() -> None:
    """Mark every kept report stale: a correction can change any round that showed the
    question. Runs inside the caller's transaction (the correction commits it)."""
    db.session.execute(update(HealthReport).values(stale=True))


def _full_points(rounds: list[Round]):
    """A SQL expression: the points of this answer's question in its round."""
    whens = []
    for round_ in rounds:
        rules = scoring_rules(round_)
        for qtype in DEFAULT_POINTS:
            whens.append(((Attempt.round_id == round_.id) & (Question.type == qtype), rules.points_for(qtype)))
    return case(*whens, else_=1.0)


def _answers(rounds: list[Round], *columns):
    """select(columns) over the counted answers: finalized valid attempts, unvoided questions."""
    return (select(*columns).select_from(AttemptItem)
            .join(Attempt, Attempt.id == AttemptItem.attempt_id)
            .join(Question, Question.id == AttemptItem.question_id)
            .where(Attempt.round_id.in_([r.id for r in rounds]), Attempt.status != "in_progress",
                   Attempt.invalidated_at.is_(None), Question.void.is_(None)))


def compute_payload(rounds: list[Round]) -> dict:
    """Everything the 体检 pages and export show, as JSON-ready data (see module docstring)."""
    full = _full_points(rounds)
    x = cast(func.coalesce(AttemptItem.points, 0.0), Float) / full
    cells = db.session.execute(
        _answers(rounds, User.unit_id, Question.source_doc, Question.topic, func.sum(x), func.count(),
                 func.min(Question.id))
        .join(User, User.id == Attempt.user_id).group_by(User.unit_id, Question.source_doc, Question.topic)).all()
    by_doc: dict = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    by_topic: dict = defaultdict(dict)
    topic_order: dict = {}
    for unit_id, doc, topic, total, n, first in cells:
        unit = str(unit_id or 0)
        by_doc[unit][doc][0] += float(total or 0)
        by_doc[unit][doc][1] += n
        by_topic[unit][f"{doc}\t{topic}"] = [round(float(total or 0), 4), n]
        topic_order[(doc, topic)] = min(first, topic_order.get((doc, topic), first))
    docs = sorted({doc for doc, _ in topic_order}, key=lambda d: (doc_title(d), d))
    topics = [[d, t] for (d, t), _ in sorted(topic_order.items(), key=lambda kv: (docs.index(kv[0][0]), kv[1]))]
    items = _items(rounds, full, x)
    return {
        "version": REPORT_VERSION,
        "rounds": [{"id": r.id, "name": r.name} for r in rounds],
        "answers": sum(row[4] for row in cells),
        "docs": [{"slug": d, "title": doc_title(d)} for d in docs],
        "topics": topics,
        "units": _units(rounds),
        "by_doc": {u: {d: [round(v[0], 4), v[1]] for d, v in cols.items()} for u, cols in by_doc.items()},
        "by_topic": dict(by_topic),
        "items": items,
        "papers": [_paper(r) for r in rounds],
        "overall": _overall(rounds),
    }


def _item_sums_query(rounds: list[Round], full, x):
    """Per question: n, Σx, Σx², Σr, Σr², Σxr and Σ x_(k) r_(k) (sorted pairing), in one
    statement. r is the rest of the person's paper as a fraction of its maximum. The sorted
    pairing needs, for the row of rank k in rest-score order, the k-th smallest x: x takes
    three levels (0, a partial credit, 1), so that is 0 for k ≤ n₀, the mean partial credit
    for k ≤ n₀ + n½, else 1 — window counts over the question's rows, no self-join."""
    rest_max = Attempt.max_score - full
    r = (func.coalesce(Attempt.score, 0.0) - func.coalesce(AttemptItem.points, 0.0)) / rest_max
    inner = _answers(rounds, AttemptItem.question_id.label("q"), x.label("x"), r.label("r")).where(
        rest_max > EPS).subquery()
    partial = (inner.c.x > EPS) & (inner.c.x < 1 - EPS)
    whole = {"partition_by": inner.c.q}
    ranked = select(
        inner.c.q, inner.c.x, inner.c.r,
        func.row_number().over(partition_by=inner.c.q, order_by=inner.c.r).label("k"),
        func.sum(case((inner.c.x <= EPS, 1), else_=0)).over(**whole).label("n0"),
        func.sum(case((partial, 1), else_=0)).over(**whole).label("np"),
        func.sum(case((partial, inner.c.x), else_=0.0)).over(**whole).label("sp"),
    ).subquery()
    x_sorted = case((ranked.c.k <= ranked.c.n0, 0.0),
                    (ranked.c.k <= ranked.c.n0 + ranked.c.np, ranked.c.sp / func.nullif(ranked.c.np, 0)), else_=1.0)
    return select(ranked.c.q, func.count(), func.sum(ranked.c.x), func.sum(ranked.c.x * ranked.c.x),
                  func.sum(ranked.c.r), func.sum(ranked.c.r * ranked.c.r), func.sum(ranked.c.x * ranked.c.r),
                  func.sum(x_sorted * ranked.c.r)).group_by(ranked.c.q)


def _items(rounds: list[Round], full, x) -> list[dict]:
    sums = {row[0]: ItemSums(row[1], *(float(v or 0) for v in row[2:])) for row in
            db.session.execute(_item_sums_query(rounds, full, x))}
    # Answers per question, also of people whose rest of paper is empty (a one-question paper).
    totals = dict((q, (n, float(s or 0))) for q, n, s in db.session.execute(
        _answers(rounds, AttemptItem.question_id, func.count(), func.sum(x)).group_by(AttemptItem.question_id)))
    responses = defaultdict(list)
    for q, text, n in db.session.execute(
            _answers(rounds, AttemptItem.question_id, cast(AttemptItem.response, Text), func.count())
            .where(Question.type != "fill").group_by(AttemptItem.question_id, cast(AttemptItem.response, Text))):
        responses[q].append((json.loads(text) if text not in (None, "null") else None, n))
    questions = db.session.execute(select(Question.id, Question.qid, Question.type, Question.source_doc,
                                          Question.source_article, Question.topic, Question.stem, Question.answer,
                                          Question.options).where(Question.id.in_(list(totals)))).all()
    items = []
    for q in questions:
        n, total = totals[q.id]
        stats = item_statistics(sums[q.id]) if q.id in sums else None
        wrong = most_chosen_wrong(responses.get(q.id, []), q.answer, q.type) if q.type != "fill" else None
        items.append({
            "id": q.id, "qid": q.qid, "type": q.type, "doc": q.source_doc, "article": q.source_article,
            "topic": q.topic, "stem": q.stem, "n": n, "facility": total / n if n else None,
            "discrimination": stats.discrimination if stats else None,
            "efficiency": stats.efficiency if stats else None,
            "flags": stats.flags if stats else [],
            "shares": option_shares(responses.get(q.id, []), q.type) if q.type != "fill" else {},
            "wrong": list(wrong) if wrong else None,
        })
    items.sort(key=lambda item: (item["facility"] if item["facility"] is not None else 2, item["id"]))
    return items


def _units(rounds: list[Round]) -> list[dict]:
    """Every unit with participation: registered (the most people any of the rounds admitted
    from the unit) and took part (distinct people with a counted attempt in any of them)."""
    registered: dict[int, int] = {}
    for round_ in rounds:
        for unit_id, count in registered_by_unit(round_).items():
            registered[unit_id] = max(count, registered.get(unit_id, 0))
    took = dict(db.session.execute(
        select(User.unit_id, func.count(func.distinct(User.id))).join(Attempt, Attempt.user_id == User.id)
        .where(Attempt.round_id.in_([r.id for r in rounds]), Attempt.status != "in_progress",
               Attempt.invalidated_at.is_(None)).group_by(User.unit_id)).all())
    units = sorted(db.session.scalars(select(Unit)), key=unit_sort_key)
    return [{"id": u.id, "name": u.name, "group": u.group_name or "", "registered": registered.get(u.id, 0),
             "took_part": took.get(u.id, 0)} for u in units]


def _counted_attempts(round_: Round):
    return (Attempt.round_id == round_.id, Attempt.status != "in_progress", Attempt.invalidated_at.is_(None))


def _paper(round_: Round) -> dict:
    """Paper figures of one round on percentage scores, and alpha by paper slots (positions):
    Σ over slots of the slot's score variance, against the variance of the totals, over the
    same attempts (quizapp.rules.statistics explains why slots)."""
    scores = db.session.execute(select(Attempt.score, Attempt.max_score).where(*_counted_attempts(round_))).all()
    percentages = [100 * (s or 0) / m for s, m in scores if m]
    stats = paper_statistics(percentages)
    slots = db.session.execute(
        select(AttemptItem.position, func.count(), func.sum(func.coalesce(AttemptItem.points, 0.0)),
               func.sum(func.coalesce(AttemptItem.points, 0.0) * func.coalesce(AttemptItem.points, 0.0)))
        .join(Attempt, Attempt.id == AttemptItem.attempt_id).where(*_counted_attempts(round_))
        .group_by(AttemptItem.position)).all()
    n = len(scores)
    complete = [variance_from_sums(c, float(s or 0), float(q or 0)) for _, c, s, q in slots if c == n]
    alpha = alpha_from_variances(complete, population_variance([s or 0 for s, _ in scores])) if n > 1 else None
    result = {"id": round_.id, "name": round_.name, "n": n, "alpha": alpha, "slots": len(complete)}
    if stats:
        result.update(mean=stats.mean, median=stats.median, sd=stats.sd, histogram=stats.histogram)
    return result


def _overall(rounds: list[Round]) -> dict:
    """The rounds' percentage scores together (one histogram for several rounds)."""
    percentages = []
    for round_ in rounds:
        percentages += [100 * (s or 0) / m for s, m in db.session.execute(
            select(Attempt.score, Attempt.max_score).where(*_counted_attempts(round_))) if m]
    stats = paper_statistics(percentages)
    if stats is None:
        return {"n": 0}
    return {"n": stats.n, "mean": stats.mean, "median": stats.median, "sd": stats.sd, "histogram": stats.histogram}
