"""Database models (SQLAlchemy 2.0 typed). Times are naive UTC (see quizapp.clock).

Models hold data and small derived properties only; the rules live in the pure modules
(scoring, ranking, papers) and every write goes through quizapp.services.
"""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import utcnow
from .extensions import db

STAGES = ("初赛", "复赛", "决赛")
ROUND_STATUSES = {"draft": "未开放", "open": "进行中", "closed": "已结束"}
ATTEMPT_STATUSES = {"in_progress": "答题中", "submitted": "已交卷", "expired": "超时自动交卷"}


class Unit(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    group_name: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="unit")


class User(UserMixin, db.Model):
    """An organizer (role "admin") or a participant (role "participant", with a unit).
    Participants log in with their admission number (准考证号) as `username`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="participant")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship(back_populates="members")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class Bank(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Question(db.Model):
    """One version of a question. A changed question gets a new row with version + 1; the old
    row stays (attempts point at the exact version they showed) with `is_current` False."""

    __table_args__ = (
        UniqueConstraint("qid", "version"),
        Index("ix_question_current", "is_current", "type"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id"), index=True)
    qid: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(100))
    difficulty: Mapped[int] = mapped_column(Integer)
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[object] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text)
    source_doc: Mapped[str] = mapped_column(String(64))
    source_article: Mapped[str] = mapped_column(String(16))
    source_basis: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    bank: Mapped[Bank] = relationship()


class Competition(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    rounds: Mapped[list["Round"]] = relationship(back_populates="competition", order_by="Round.seq")


class Round(db.Model):
    """A timed round. `rules` is a list of paper sections (see quizapp.papers.Section);
    `points` maps question type to points. `draw_mode` "random" draws per person with
    `seed`, "fixed" gives everyone the same questions (order still shuffled per person)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competition.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    stage: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    time_limit_minutes: Mapped[int] = mapped_column(Integer)
    rules: Mapped[list] = mapped_column(JSON)
    points: Mapped[dict] = mapped_column(JSON)
    multiple_rule: Mapped[str] = mapped_column(String(20), default="all_or_nothing")
    partial_fraction: Mapped[float] = mapped_column(Float, default=0.5)
    draw_mode: Mapped[str] = mapped_column(String(10), default="random")
    seed: Mapped[str] = mapped_column(String(64))
    show_score: Mapped[str] = mapped_column(String(16), default="on_submit")
    unit_method: Mapped[str] = mapped_column(String(10), default="mean")
    unit_k: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    competition: Mapped[Competition] = relationship(back_populates="rounds")

    @property
    def status_label(self) -> str:
        return ROUND_STATUSES[self.status]

    @property
    def question_count(self) -> int:
        return sum(int(section["count"]) for section in self.rules)


class Attempt(db.Model):
    """One participant's sitting of one round. `deadline_at` is fixed when the attempt starts:
    the earlier of start + time limit and the round's closing time. Score fields are filled
    when the attempt is finalized (status submitted or expired)."""

    __table_args__ = (
        UniqueConstraint("round_id", "user_id"),
        Index("ix_attempt_round_status", "round_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(DateTime)
    deadline_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0)
    time_used: Mapped[int | None] = mapped_column(Integer)

    round: Mapped[Round] = relationship()
    user: Mapped[User] = relationship()
    items: Mapped[list["AttemptItem"]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"

    @property
    def status_label(self) -> str:
        return ATTEMPT_STATUSES[self.status]


class AttemptItem(db.Model):
    """One question of an attempt's paper and the participant's saved response.
    `option_order` lists the bank's option letters in the order shown (display A, B, …);
    `response` is stored in bank letters (see quizapp.scoring)."""

    __table_args__ = (UniqueConstraint("attempt_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    option_order: Mapped[list] = mapped_column(JSON, default=list)
    response: Mapped[object | None] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    saved_at: Mapped[datetime | None] = mapped_column(DateTime)
    points: Mapped[float | None] = mapped_column(Float)

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()
