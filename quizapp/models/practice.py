"""Practice (大学习): sessions a person starts at will, their answers, and the 错题本.

Separate from rounds and attempts on purpose: nothing here is read by scoring, ranking,
advancement or results, so practice can never change a competition score.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .banks import Question
from .people import User

PRACTICE_KINDS = {"chapter": "按章节练习", "mistakes": "错题重练", "daily": "每日一练"}


class PracticeSession(db.Model):
    """One practice set: a chapter (`document`, `version`, `topic`), the person's mistakes, or
    the day's 每日一练 (`day`, 北京时间; one per person per day)."""

    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_practice_session_user_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    document: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(100))
    day: Mapped[date | None] = mapped_column(Date)
    question_count: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return PRACTICE_KINDS.get(self.kind, self.kind)


class PracticeItem(db.Model):
    """One question of a practice session and, once answered, the answer (bank letters) and
    whether it was right. An item is answered once: the correct answer is shown right after.
    `user_id` is the session's, kept here so unit and weekly figures need no join."""

    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        Index("ix_practice_item_answered", "answered_at"),
        Index("ix_practice_item_user", "user_id", "answered_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("practice_session.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    option_order: Mapped[list] = mapped_column(JSON, default=list)
    response: Mapped[object | None] = mapped_column(JSON)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    question: Mapped[Question] = relationship()


class PracticeMistake(db.Model):
    """A question (by `qid`, across its versions) in one person's 错题本, with its Leitner
    box (quizapp.rules.practice): box 2 means it has left the book — the row stays so a round
    already folded in is not added again. `session_id` is the practice session that last moved
    it (None: a round); `updated_at` is when (a round's: its submission)."""

    __table_args__ = (
        UniqueConstraint("user_id", "qid"),
        Index("ix_practice_mistake_box", "user_id", "box"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    qid: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    box: Mapped[int] = mapped_column(Integer, default=0)
    session_id: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(8))  # "round" or "practice": where it was first missed
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    question: Mapped[Question] = relationship()
