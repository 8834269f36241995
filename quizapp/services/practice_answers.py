"""Answering practice: the hot path (`answer`) and what a session's page carries.

`answer` runs on its own connections, without the ORM session: one read (autocommit) joining
the item, its question, the signed-in person's session check and their 错题本 entry; then, in
one transaction, one conditional single-row UPDATE of the item and, only when the Leitner box
changes, one upsert of the 错题本 entry. The statements are built once per process (building
them per request cost more than running them). The article's text comes from a per-process
cache (quizapp.services.practice_catalog), never from disk or the database per request.
"""
from __future__ import annotations

from sqlalchemy import and_, bindparam, case, func, select, update

from .. import clock
from ..access import live_participant
from ..extensions import db
from ..models import Question, User
from ..models.practice import PracticeItem, PracticeMistake, PracticeSession
from ..rules.practice import MASTERED_BOX, Box, review
from ..scoring import ScoringRules, is_answered, score_response
from . import ServiceError
from .attempts import NoSuchItem, to_bank_response, to_display_response
from .practice import _feedback, _shown, describe

_RULES = ScoringRules()  # right means full points: a multiple choice is right only when complete

_READ = (
    select(PracticeItem.id, PracticeItem.session_id, PracticeItem.user_id, PracticeItem.option_order,
           PracticeItem.response, PracticeItem.correct, PracticeItem.answered_at,
           Question.id.label("question_id"), Question.type, Question.answer, Question.qid, Question.explanation,
           Question.source_doc, Question.source_article, Question.source_basis,
           PracticeMistake.id.label("mistake_id"), PracticeMistake.box, PracticeMistake.session_id.label("box_session"))
    .join(Question, Question.id == PracticeItem.question_id)
    .join(User, User.id == PracticeItem.user_id)
    .outerjoin(PracticeMistake, and_(PracticeMistake.user_id == PracticeItem.user_id, PracticeMistake.qid == Question.qid))
    .where(PracticeItem.session_id == bindparam("session_id"), PracticeItem.position == bindparam("position"),
           PracticeItem.user_id == bindparam("owner_id"), live_participant("owner_version"))
)
_WRITE = (update(PracticeItem).where(PracticeItem.id == bindparam("b_id"), PracticeItem.answered_at.is_(None))
          .values(response=bindparam("b_response", type_=PracticeItem.response.type), correct=bindparam("b_correct"),
                  answered_at=bindparam("b_now")))
_UPSERTS: dict[str, object] = {}


def _upsert():
    """INSERT … ON CONFLICT (user_id, qid) DO UPDATE of a 错题本 entry, for this database."""
    name = db.engine.dialect.name
    if name not in _UPSERTS:
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(PracticeMistake).values(
            user_id=bindparam("m_user"), qid=bindparam("m_qid"), question_id=bindparam("m_question"),
            box=bindparam("m_box"), session_id=bindparam("m_session"), origin="practice", updated_at=bindparam("m_now"))
        _UPSERTS[name] = statement.on_conflict_do_update(
            index_elements=["user_id", "qid"],
            set_={"box": statement.excluded.box, "session_id": statement.excluded.session_id,
                  "question_id": statement.excluded.question_id, "updated_at": statement.excluded.updated_at})
    return _UPSERTS[name]


def _result(row, response, correct: bool, box: int | None) -> dict:
    display = to_display_response(row.type, row.option_order, response)
    return {"ok": True, "correct": correct, "given": describe(row.type, display), "response": display,
            "in_book": box is not None and box < MASTERED_BOX, "box": box,
            **_feedback(row.type, row.answer, row.option_order, row.explanation, row.source_doc,
                        row.source_article, row.source_basis)}


def answer(session_id: int, position: int, raw, owner_id: int, owner_version: int) -> dict:
    """Check and store the answer to item `position` of the signed-in person's own session;
    returns the feedback (right or wrong, the correct answer, 解析, the article) and the
    question's place in the 错题本 afterwards.

    Raises NoSuchItem when the item is not that active participant's (or the session version
    is stale), ServiceError for a blank or malformed answer. A second submission of an
    answered item stores nothing and returns the first answer's feedback."""
    params = {"session_id": session_id, "position": position, "owner_id": owner_id, "owner_version": owner_version}
    # The read outside the write transaction (autocommit): on SQLite a read inside it would hold
    # a shared lock while waiting to write, and writers would queue behind readers.
    with db.engine.connect() as reader:
        row = reader.execution_options(isolation_level="AUTOCOMMIT").execute(_READ, params).first()
    if row is None:
        raise NoSuchItem("题号不存在")
    entry = Box(row.box, row.box_session) if row.mistake_id is not None else None
    if row.answered_at is not None:
        return _result(row, row.response, bool(row.correct), entry.box if entry else None)
    response = to_bank_response(row, row.option_order, raw)
    if not is_answered(row.type, response):
        raise ServiceError("请先作答再提交")
    correct = score_response(row.type, row.answer, response, _RULES) >= _RULES.points_for(row.type)
    now = clock.now()
    after = review(entry, correct, session_id)
    with db.engine.begin() as connection:
        written = connection.execute(_WRITE, {"b_id": row.id, "b_response": response, "b_correct": correct,
                                              "b_now": now}).rowcount
        if written == 1 and after is not entry:
            connection.execute(_upsert(), {"m_user": owner_id, "m_qid": row.qid, "m_question": row.question_id,
                                           "m_box": after.box, "m_session": after.session_id, "m_now": now})
    if written != 1:  # answered meanwhile (a double tap): the first answer stands
        with db.engine.connect() as reader:
            row = reader.execution_options(isolation_level="AUTOCOMMIT").execute(_READ, params).first()
        return _result(row, row.response, bool(row.correct), entry.box if entry else None)
    return _result(row, response, correct, after.box if after else None)


def own_session(session_id: int, user: User) -> PracticeSession | None:
    practice = db.session.get(PracticeSession, session_id)
    return practice if practice is not None and practice.user_id == user.id else None


def session_items(practice: PracticeSession) -> list[dict]:
    """The page's data: each item's stem and options; the response and feedback only for
    items already answered (so the answer never reaches the page before its submission)."""
    rows = db.session.execute(
        select(PracticeItem, Question).join(Question, Question.id == PracticeItem.question_id)
        .where(PracticeItem.session_id == practice.id).order_by(PracticeItem.position)).all()
    boxes = dict(db.session.execute(select(PracticeMistake.qid, PracticeMistake.box).where(
        PracticeMistake.user_id == practice.user_id, PracticeMistake.qid.in_([q.qid for _, q in rows]))).all())
    items = []
    for item, question in rows:
        shown = {"position": item.position, **_shown(question.type, question.stem, question.options, item.option_order)}
        if item.answered_at is not None:
            display = to_display_response(question.type, item.option_order, item.response)
            box = boxes.get(question.qid)
            shown["feedback"] = {
                "correct": bool(item.correct), "given": describe(question.type, display), "response": display,
                "in_book": box is not None and box < MASTERED_BOX, "box": box,
                **_feedback(question.type, question.answer, item.option_order, question.explanation,
                            question.source_doc, question.source_article, question.source_basis)}
        items.append(shown)
    return items


def recent_sessions(user: User, limit: int = 8) -> list[dict]:
    """The person's latest sessions with how many items are answered and right."""
    rows = db.session.execute(
        select(PracticeSession, func.count(PracticeItem.answered_at),
               func.sum(case((PracticeItem.correct.is_(True), 1), else_=0)))
        .join(PracticeItem, PracticeItem.session_id == PracticeSession.id)
        .where(PracticeSession.user_id == user.id).group_by(PracticeSession.id)
        .order_by(PracticeSession.started_at.desc(), PracticeSession.id.desc()).limit(limit)).all()
    return [{"session": s, "answered": answered or 0, "right": int(right or 0)} for s, answered, right in rows]
