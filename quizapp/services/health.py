"""The 体检 (health check) of one round or several rounds: computed by the database, kept in
the `health_report` table, shown by quizapp.organizer.health.

What counts: every finalized, valid (not invalidated) attempt of the rounds, and each of its
answers at the points stored on it — which every answer-key correction re-scores
(quizapp.services.corrections) — as a fraction of that question's points in its round.
Voided questions (作废, "award" or "drop") are left out of every accuracy and item figure:
points given to everyone say nothing about what people know. Paper-level figures (mean,
median, SD, histogram, alpha) use the attempts' stored scores, which already follow the
correction's rule (everyone gets the points, or the question leaves the total).

Every sum over answers comes from one read of them as arrays summed with numpy
(quizapp.services.health_scan; a 50,000 × 100 round is five million rows). The figures themselves come from quizapp.rules.statistics.

A report is computed once per published round and after each correction, by the background
job of quizapp.services.health_jobs (pages never compute it) and kept; `invalidate_reports()`
marks every kept report stale after a correction, and the job computes it again.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, delete, func, select, update

from ..banks.docs import doc_title
from ..clock import utcnow
from ..extensions import db
from ..models import Attempt, AttemptItem, HealthReport, Question, Round, Unit, User
from ..rules.statistics import (
    alpha_from_variances, item_statistics, most_chosen_wrong, option_shares, paper_statistics,
    population_variance, variance_from_sums,
)
from ..scoring import DEFAULT_POINTS
from . import ServiceError
from .drawing import scoring_rules
from .entry import registered_by_unit
from .results import unit_leaderboard
from .health_scan import Scan, scan, topic_keys
from .units import unit_sort_key

REPORT_VERSION = 3


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


def kept_part(rounds: list[Round], part: str) -> dict:
    """A kept part of the report ("items", or "doc/<slug>" for one document's chapters) as it
    is, never computed; pages read parts on their own so the heatmap page never parses the
    item table. {} if absent."""
    row = db.session.scalar(select(HealthReport).filter_by(round_key=f"{round_key(r.id for r in rounds)}/{part}"))
    return row.payload if row is not None else {}


def with_parts(rounds: list[Round], main: dict) -> dict:
    """The main payload with its kept parts merged in (items and every document's chapters), for the export."""
    payload = dict(main)
    payload["items"] = kept_part(rounds, "items").get("items", [])
    payload["by_topic"] = defaultdict(dict)
    for doc in payload["docs"]:
        for unit, cells in kept_part(rounds, f"doc/{doc['slug']}").get("by_topic", {}).items():
            payload["by_topic"][unit].update(cells)
    return payload


def whole_report(rounds: list[Round]) -> dict:
    """The whole report, computed first if needed (the CLI and tests; pages use the job)."""
    return with_parts(rounds, get_report(rounds).payload)


def store_report(rounds: list[Round]) -> HealthReport:
    """Compute and keep the report and its parts (replacing older ones) in one transaction."""
    payload = compute_payload(rounds)
    key = round_key(r.id for r in rounds)
    ids = sorted(r.id for r in rounds)
    parts = {f"{key}/items": {"items": payload.pop("items")}}
    by_topic = payload.pop("by_topic")
    per_doc: dict = {doc["slug"]: defaultdict(dict) for doc in payload["docs"]}
    doc_of = {f"{doc}\t{topic}": doc for doc, topic in payload["topics"]}
    for unit, cells in by_topic.items():
        for column, value in cells.items():
            per_doc[doc_of[column]][unit][column] = value
    for slug, units in per_doc.items():
        parts[f"{key}/doc/{slug}"] = {"by_topic": dict(units)}
    db.session.execute(delete(HealthReport).where(HealthReport.round_key.in_([key, *parts])))
    now = utcnow()
    report = HealthReport(round_key=key, round_ids=ids, payload=payload, stale=False, computed_at=now)
    db.session.add(report)
    db.session.add_all(HealthReport(round_key=k, round_ids=ids, payload=v, stale=False, computed_at=now)
                       for k, v in parts.items())
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
    """select(columns) over the counted answers: finalized valid attempts, unvoided questions
    (the live reads of one unit in quizapp.services.health_views)."""
    return (select(*columns).select_from(AttemptItem)
            .join(Attempt, Attempt.id == AttemptItem.attempt_id)
            .join(Question, Question.id == AttemptItem.question_id)
            .where(Attempt.round_id.in_([r.id for r in rounds]), Attempt.status != "in_progress",
                   Attempt.invalidated_at.is_(None), Question.void.is_(None)))


def compute_payload(rounds: list[Round]) -> dict:
    """Everything the 体检 pages and export show, as JSON-ready data (see module docstring).
    One scan of the answers (quizapp.services.health_scan); the rest reads small tables."""
    sets = scan(rounds)
    numbered = topic_keys()
    keys = {tk: (doc, topic) for tk, doc, topic in db.session.execute(
        select(numbered.c.tk, numbered.c.source_doc, numbered.c.topic).distinct())}
    first = {(d, t): i for d, t, i in db.session.execute(
        select(Question.source_doc, Question.topic, func.min(Question.id)).group_by(Question.source_doc, Question.topic))}
    by_doc: dict = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    by_topic: dict = defaultdict(dict)
    county_topic: dict = defaultdict(lambda: [0.0, 0])
    answers = 0
    columns = {tk: (doc, f"{doc}\t{topic}") for tk, (doc, topic) in keys.items()}
    for unit_id, tk, total, count in sets.cells:   # 1,500 units × 100 chapters: keep the loop lean
        unit, (doc, column) = str(unit_id or 0), columns[tk]
        sums = by_doc[unit][doc]
        sums[0] += total
        sums[1] += count
        by_topic[unit][column] = [round(total, 4), count]
        county = county_topic[column]
        county[0] += total
        county[1] += count
        answers += count
    seen = {key.split("\t", 1)[0] for key in county_topic}
    docs = sorted(seen, key=lambda d: (doc_title(d), d))
    topics = [key.split("\t", 1) for key in sorted(county_topic, key=lambda k: (
        docs.index(k.split("\t", 1)[0]), first.get(tuple(k.split("\t", 1)), 0)))]
    return {
        "version": REPORT_VERSION,
        "rounds": [{"id": r.id, "name": r.name} for r in rounds],
        "answers": answers,
        "docs": [{"slug": d, "title": doc_title(d)} for d in docs],
        "topics": topics,
        "units": _units(rounds),
        "by_doc": {u: {d: [round(v[0], 4), v[1]] for d, v in cols.items()} for u, cols in by_doc.items()},
        "county_topic": {k: [round(v[0], 4), v[1]] for k, v in county_topic.items()},
        "by_topic": dict(by_topic),
        "items": _items(sets),
        "papers": [_paper(r, sets.scores[r.id], [s for s in sets.slots if s["rid"] == r.id]) for r in rounds],
        # Each unit's place among units per round (the leaderboard's rule), kept so a unit
        # report need not rank every unit of a 50,000-person round on each request.
        "standings": {str(r.id): {str(row.key): row.rank for row in unit_leaderboard(r)} for r in rounds},
        "overall": _overall(sets),
    }


def _items(sets: Scan) -> list[dict]:
    sums, responses = sets.items, sets.responses
    questions = db.session.execute(select(Question.id, Question.qid, Question.type, Question.source_doc,
                                          Question.source_article, Question.topic, Question.stem, Question.answer)
                                   .where(Question.id.in_(list(sums)))).all()
    items = []
    for q in questions:
        n, total, item_sums = sums[q.id]
        stats = item_statistics(item_sums)
        choice = q.type != "fill"
        wrong = most_chosen_wrong(responses.get(q.id, []), q.answer, q.type) if choice else None
        items.append({
            "id": q.id, "qid": q.qid, "type": q.type, "doc": q.source_doc, "article": q.source_article,
            "topic": q.topic, "stem": q.stem, "n": n, "facility": total / n if n else None,
            "discrimination": stats.discrimination if stats else None,
            "efficiency": stats.efficiency if stats else None,
            "flags": stats.flags if stats else [],
            "shares": option_shares(responses.get(q.id, []), q.type) if choice else {},
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


def _paper(round_: Round, scores: list[tuple[float, float]], slots: list[dict]) -> dict:
    """Paper figures of one round on percentage scores, and alpha by paper slots (positions):
    Σ over slots of the slot's score variance, against the variance of the totals, over the
    same attempts (quizapp.rules.statistics explains why slots). `scores` are the counted
    attempts' (score, max score), read by the scan."""
    percentages = [100 * s / m for s, m in scores if m]
    stats = paper_statistics(percentages)
    n = len(scores)
    complete = [variance_from_sums(s["rows"], s["sp"], s["spp"]) for s in slots if s["rows"] == n]
    alpha = alpha_from_variances(complete, population_variance([s for s, _ in scores])) if n > 1 else None
    result = {"id": round_.id, "name": round_.name, "n": n, "alpha": alpha, "slots": len(complete)}
    if stats:
        result.update(mean=stats.mean, median=stats.median, sd=stats.sd, histogram=stats.histogram)
    return result


def _overall(sets: Scan) -> dict:
    """The rounds' percentage scores together (one histogram for several rounds)."""
    percentages = [100 * s / m for scores in sets.scores.values() for s, m in scores if m]
    stats = paper_statistics(percentages)
    if stats is None:
        return {"n": 0}
    return {"n": stats.n, "mean": stats.mean, "median": stats.median, "sd": stats.sd, "histogram": stats.histogram}
