"""Attempts: one person's (or one team's) sitting of a round, its paper and its answers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .banks import Question
from .people import User
from .rounds import Round, Team

ATTEMPT_STATUSES = {"in_progress": "答题中", "submitted": "已交卷", "expired": "超时自动交卷"}


class Attempt(db.Model):
    """One participant's sitting of one round (in a shared-paper team round: the team's, started
    by `user_id`). `deadline_at` is fixed when the attempt starts — the earlier of start + time
    limit and the round's closing time — and moves only when an organizer extends it. Score
    fields are filled when the attempt is finalized (status submitted or expired).
    `device_token` names the one browser that may answer; a new sign-in takes it over.
    An invalidated attempt (cheating) scores 0 and is marked in every list."""

    __table_args__ = (
        UniqueConstraint("round_id", "user_id"),
        UniqueConstraint("round_id", "team_id", name="uq_attempt_round_team"),
        Index("ix_attempt_round_status", "round_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(DateTime)
    deadline_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0)
    time_used: Mapped[int | None] = mapped_column(Integer)
    device_token: Mapped[str | None] = mapped_column(String(64))
    invalidated_at: Mapped[datetime | None] = mapped_column(DateTime)
    invalid_reason: Mapped[str | None] = mapped_column(Text)

    round: Mapped[Round] = relationship()
    user: Mapped[User] = relationship()
    team: Mapped[Team | None] = relationship()
    items: Mapped[list["AttemptItem"]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan"
    )
    events: Mapped[list["AttemptEvent"]] = relationship(
        back_populates="attempt", order_by="AttemptEvent.at", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"

    @property
    def status_label(self) -> str:
        return "已作废" if self.invalidated_at else ATTEMPT_STATUSES[self.status]


class AttemptItem(db.Model):
    """One question of an attempt's paper and the saved response.
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


class AttemptEvent(db.Model):
    """A start, resume or device takeover of an attempt: when, by whom, from where."""

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    attempt: Mapped[Attempt] = relationship(back_populates="events")
    user: Mapped[User] = relationship()


class PreparedPaper(db.Model):
    """A paper drawn when its round opened, waiting for its person (or, in a shared-paper
    team round, its team: `team_id` set and `user_id` empty) to press 开始.

    Drawing every paper before the round starts turns the 9:00 start into one read and two
    inserts. `items` lists [question id, [bank option letters in the order shown]] by
    position; it is the same paper a start would otherwise draw (same seeds and pool)."""

    __table_args__ = (
        UniqueConstraint("round_id", "user_id"),
        UniqueConstraint("round_id", "team_id", name="uq_prepared_paper_round_team"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    items: Mapped[list] = mapped_column(JSON)
    max_score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
