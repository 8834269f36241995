"""Practice (大学习): starting sets, answering with immediate feedback, and the 错题本.

Contracts (the answer itself is checked in quizapp.services.practice_answers):
- Practice writes only the practice tables (quizapp.models.practice); no competition score,
  rank or leaderboard reads them.
- The correct answer, 解析 and article of an item leave the server only in the answer to that
  item's submission (`answer`) or, for items already answered, in `session_items`.
- An item is answered once; submitting it again returns the first answer's feedback.
- `answer` is the hot path: one read (item, question, session check and 错题本 entry in one
  query), then one single-row UPDATE and an upsert of the 错题本 entry only when its box
  changes (a wrong answer, or a right one on a question in the book), in one transaction.
"""
from __future__ import annotations

import random
import secrets
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..banks.loader import BLANK, TYPE_LABELS
from ..extensions import db
from ..models import Attempt, AttemptItem, Question, Round, User
from ..models.practice import PracticeItem, PracticeMistake, PracticeSession
from ..rules.practice import DAILY_COUNT, MASTERED_BOX, daily_pick
from . import ServiceError
from .attempts import to_display_response
from .practice_catalog import article, chapter_key, chapter_pool, in_force_pool
from .release import results_released

COUNTS = (10, 20, 30)
MISTAKES_PER_SET = 20


def _create(user: User, kind: str, title: str, question_ids: list[int], **fields) -> int:
    """A new session with its items (bank option order), committed; returns its id."""
    if not question_ids:
        raise ServiceError("没有可练习的题目")
    keys = dict(db.session.execute(select(Question.id, Question.options).where(Question.id.in_(question_ids))).all())
    practice = PracticeSession(user_id=user.id, kind=kind, title=title[:200], question_count=len(question_ids),
                               started_at=clock.now(), **fields)
    db.session.add(practice)
    db.session.flush()
    db.session.execute(insert(PracticeItem), [
        {"session_id": practice.id, "user_id": user.id, "position": n, "question_id": q,
         "option_order": [key for key, _ in keys[q]]} for n, q in enumerate(question_ids, start=1)])
    db.session.commit()
    return practice.id


def _one_per_group(questions, count: int, rng: random.Random) -> list[int]:
    """`count` random questions, at most one of each draw group (pairs that give each other away)."""
    shuffled = list(questions)
    rng.shuffle(shuffled)
    picked, groups = [], set()
    for q in shuffled:
        if q.group and q.group in groups:
            continue
        if q.group:
            groups.add(q.group)
        picked.append(q.id)
        if len(picked) == count:
            break
    return picked


def start_chapter(user: User, document: str, version: str | None, topic: str | None, count: int) -> int:
    """A set of `count` random questions of one document (versions in force, or `version`) and
    chapter (`topic`; None: the whole document). Raises ServiceError when there are none."""
    if count not in COUNTS:
        raise ServiceError("题量只能选 10、20 或 30 题")
    pool = chapter_pool(document, version or None, topic or None)
    if not pool:
        raise ServiceError("所选文件或章节没有可练习的题目")
    picked = _one_per_group(pool, count, random.Random(secrets.randbits(64)))
    label = f"《{document}》" + (f"（{version}年版）" if version else "") + (f" · {topic}" if topic else " · 全部章节")
    return _create(user, "chapter", label, picked, document=document, version=version or None, topic=topic or None)


def start_mistakes(user: User) -> int:
    """A set of up to MISTAKES_PER_SET questions from the person's 错题本, lowest box and
    oldest first, each in its current version."""
    sync_round_mistakes(user)
    usable = {q.qid: q.id for q in in_force_pool()}
    rows = db.session.execute(
        select(PracticeMistake.qid).where(PracticeMistake.user_id == user.id, PracticeMistake.box < MASTERED_BOX)
        .order_by(PracticeMistake.box, PracticeMistake.updated_at, PracticeMistake.id)).scalars().all()
    current = _current_ids([qid for qid in rows if qid not in usable])
    picked = [usable.get(qid) or current.get(qid) for qid in rows]
    picked = [q for q in picked if q][:MISTAKES_PER_SET]
    if not picked:
        raise ServiceError("错题本中没有题目，先去按章节练习或每日一练吧")
    return _create(user, "mistakes", "错题重练", picked)


def _current_ids(qids: list[str]) -> dict[str, int]:
    """qid → id of its current version (for a 错题本 entry of a superseded or disabled bank)."""
    if not qids:
        return {}
    return dict(db.session.execute(select(Question.qid, Question.id).where(
        Question.qid.in_(qids), Question.is_current.is_(True), Question.void.is_(None),
        Question.disabled.is_(False))).all())


def today():
    return clock.to_local(clock.now()).date()


def start_daily(user: User) -> int:
    """Today's 每日一练 (北京时间): DAILY_COUNT questions of the versions in force, the person's
    weakest chapters first (quizapp.rules.practice.daily_pick, seeded by person and day). One
    per person per day: asking again returns the same session."""
    day = today()
    existing = db.session.scalar(select(PracticeSession.id).filter_by(user_id=user.id, day=day))
    if existing:
        return existing
    sync_round_mistakes(user)
    pool = in_force_pool()
    chapters: dict[str, list[int]] = {}
    by_id = {}
    for q in pool:
        chapters.setdefault(chapter_key(q), []).append(q.id)
        by_id[q.id] = q
    stats = chapter_stats(user, by_id)
    booked_qids = set(db.session.scalars(select(PracticeMistake.qid).where(
        PracticeMistake.user_id == user.id, PracticeMistake.box < MASTERED_BOX)))
    booked = frozenset(q.id for q in pool if q.qid in booked_qids)
    picked = daily_pick(chapters, stats, f"{user.id}:{day.isoformat()}", DAILY_COUNT, booked)
    try:
        return _create(user, "daily", f"每日一练（{day.month}月{day.day}日）", picked, day=day)
    except IntegrityError:  # the same person pressed twice at once: the first set stands
        db.session.rollback()
        return db.session.scalar(select(PracticeSession.id).filter_by(user_id=user.id, day=day))


def chapter_stats(user: User, by_id: dict) -> dict[str, tuple[int, int]]:
    """(right, answered) per chapter key from the person's practice answers and published
    round answers, counted on questions still in force (`by_id`: the pool by id)."""
    stats: dict[str, list[int]] = {}
    answers = db.session.execute(select(PracticeItem.question_id, PracticeItem.correct).where(
        PracticeItem.user_id == user.id, PracticeItem.answered_at.is_not(None))).all()
    for question_id, right, _, _ in _round_answers(user):
        answers.append((question_id, right))
    for question_id, right in answers:
        if question_id in by_id:
            cell = stats.setdefault(chapter_key(by_id[question_id]), [0, 0])
            cell[0] += bool(right)
            cell[1] += 1
    return {k: (r, n) for k, (r, n) in stats.items()}


def _round_answers(user: User) -> list[tuple[int, bool, str, datetime]]:
    """(question id, right, qid, when) for every answer of the person's valid, finished
    attempts in rounds whose results are published. Right means full points; a voided
    question says nothing about the person and is left out."""
    rounds = {r.id: r for r in db.session.scalars(select(Round).join(Attempt, Attempt.round_id == Round.id).where(
        Attempt.user_id == user.id, Attempt.status != "in_progress", Attempt.invalidated_at.is_(None)))}
    released = [rid for rid, r in rounds.items() if results_released(r)]
    if not released:
        return []
    rows = db.session.execute(
        select(Attempt.round_id, Attempt.submitted_at, Attempt.deadline_at, AttemptItem.question_id, AttemptItem.points,
               Question.type, Question.qid)
        .join(AttemptItem, AttemptItem.attempt_id == Attempt.id).join(Question, Question.id == AttemptItem.question_id)
        .where(Attempt.user_id == user.id, Attempt.round_id.in_(released), Question.void.is_(None))).all()
    out = []
    for row in rows:
        full = float(rounds[row.round_id].points.get(row.type, 0) or 0)
        out.append((row.question_id, full > 0 and (row.points or 0) >= full - 1e-9, row.qid,
                    row.submitted_at or row.deadline_at))
    return out


def sync_round_mistakes(user: User) -> None:
    """Fold the person's wrong answers in published rounds into the 错题本: a question missed in
    a round goes to box 0 unless practice moved it after that round (its entry is newer).
    Idempotent; commits only when something changed."""
    latest: dict[str, tuple[int, datetime]] = {}
    for question_id, right, qid, when in _round_answers(user):
        if not right and (qid not in latest or when > latest[qid][1]):
            latest[qid] = (question_id, when)
    if not latest:
        return
    entries = {m.qid: m for m in db.session.scalars(select(PracticeMistake).where(
        PracticeMistake.user_id == user.id, PracticeMistake.qid.in_(list(latest))))}
    changed = False
    for qid, (question_id, when) in latest.items():
        entry = entries.get(qid)
        if entry is None:
            db.session.add(PracticeMistake(user_id=user.id, qid=qid, question_id=question_id, box=0, session_id=None,
                                           origin="round", updated_at=when))
            changed = True
        elif entry.updated_at < when:
            entry.box, entry.session_id, entry.updated_at = 0, None, when
            changed = True
    if changed:
        try:
            db.session.commit()
        except IntegrityError:  # folded in by a parallel request of the same person
            db.session.rollback()


def mistake_count(user: User) -> int:
    sync_round_mistakes(user)
    return db.session.scalar(select(func.count()).select_from(PracticeMistake).where(
        PracticeMistake.user_id == user.id, PracticeMistake.box < MASTERED_BOX))


def mistake_book(user: User) -> list[dict]:
    """The entries in the book (box 0 and 1), lowest box first, each with its question's
    current version, the correct answer, 解析 and the article's text."""
    sync_round_mistakes(user)
    entries = db.session.scalars(select(PracticeMistake).where(
        PracticeMistake.user_id == user.id, PracticeMistake.box < MASTERED_BOX)
        .order_by(PracticeMistake.box, PracticeMistake.updated_at.desc(), PracticeMistake.id)).all()
    current = _current_ids([e.qid for e in entries])
    questions = {q.id: q for q in db.session.scalars(select(Question).where(
        Question.id.in_([current.get(e.qid, e.question_id) for e in entries])))}
    rows = []
    for entry in entries:
        q = questions[current.get(entry.qid, entry.question_id)]
        order = [key for key, _ in q.options]
        rows.append({"question": _shown(q.type, q.stem, q.options, order), "box": entry.box,
                     "remaining": MASTERED_BOX - entry.box, "origin": "竞赛" if entry.origin == "round" else "练习",
                     "updated_at": entry.updated_at, **_feedback(q.type, q.answer, order, q.explanation,
                                                                 q.source_doc, q.source_article, q.source_basis)})
    return rows


def _shown(qtype: str, stem: str, options: list, order: list[str]) -> dict:
    texts = dict((key, text) for key, text in options)
    return {"type": qtype, "label": TYPE_LABELS[qtype], "stem_parts": stem.split(BLANK) if qtype == "fill" else [stem],
            "options": [[chr(ord("A") + i), texts[k]] for i, k in enumerate(order)]}


def describe(qtype: str, value) -> str:
    """A response or key in display form, as a person reads it."""
    if value is None or value == [] or value == "":
        return "未作答"
    if qtype == "judge":
        return "正确" if value else "错误"
    if qtype == "multiple":
        return "".join(value)
    if qtype == "fill":
        return "；".join(v if isinstance(v, str) else " / ".join(v) for v in value)
    return str(value)


def _feedback(qtype, key, order, explanation, source_doc, source_article, basis) -> dict:
    return {"answer": describe(qtype, to_display_response(qtype, order, key)), "explanation": explanation,
            "basis": basis, **article(source_doc, source_article)}


def daily_status(user: User) -> dict:
    """Today's 每日一练: {"session_id": id or None, "answered": n, "total": n}."""
    row = db.session.execute(
        select(PracticeSession.id, PracticeSession.question_count, func.count(PracticeItem.answered_at))
        .join(PracticeItem, PracticeItem.session_id == PracticeSession.id)
        .where(PracticeSession.user_id == user.id, PracticeSession.day == today())
        .group_by(PracticeSession.id, PracticeSession.question_count)).first()
    if row is None:
        return {"session_id": None, "answered": 0, "total": DAILY_COUNT}
    return {"session_id": row[0], "answered": row[2], "total": row[1]}


def lobby_summary(user: User) -> dict:
    """What the lobby's practice card shows: the 错题本 count and today's 每日一练."""
    return {"mistakes": mistake_count(user), "daily": daily_status(user)}
