"""The on-stage 决赛: a final of a 决赛 round, its teams and team logins, its planned questions,
and the append-only log of everything that happened (the state is rebuilt from the log)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .banks import Question
from .people import User
from .rounds import Round, Team

FINAL_STATUSES = {"ready": "未开始", "running": "进行中", "finished": "已结束"}


class Final(db.Model):
    """`config` holds the parts' settings (quizapp.rules.final.DEFAULT_CONFIG's shape);
    `screen_token` is the big screen's only credential: it may watch, never act."""

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), unique=True)
    config: Mapped[dict] = mapped_column(JSON)
    base_score: Mapped[int] = mapped_column(Integer, default=100)
    screen_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[Round] = relationship()
    teams: Mapped[list["FinalTeam"]] = relationship(back_populates="final", order_by="FinalTeam.position",
                                                    cascade="all, delete-orphan")
    questions: Mapped[list["FinalQuestion"]] = relationship(back_populates="final", order_by="FinalQuestion.position",
                                                            cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return FINAL_STATUSES[self.status]


class FinalTeam(db.Model):
    """A round's team on stage, at desk `position`, signed in on its device as `user` (role "team")."""

    __table_args__ = (UniqueConstraint("final_id", "team_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    final_id: Mapped[int] = mapped_column(ForeignKey("final.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    position: Mapped[int] = mapped_column(Integer)

    final: Mapped[Final] = relationship(back_populates="teams")
    team: Mapped[Team] = relationship()
    user: Mapped[User] = relationship()


class FinalQuestion(db.Model):
    """Slot `position` of the run sheet: its part, the team a 必答/风险 slot belongs to, and the
    question (with its option order) drawn in advance; swappable until the final starts."""

    __table_args__ = (UniqueConstraint("final_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    final_id: Mapped[int] = mapped_column(ForeignKey("final.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    final_team_id: Mapped[int | None] = mapped_column(ForeignKey("final_team.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    option_order: Mapped[list] = mapped_column(JSON, default=list)

    final: Mapped[Final] = relationship(back_populates="questions")
    question: Mapped[Question] = relationship()


class FinalEvent(db.Model):
    """One accepted step of a final; rows are only ever added. `seq` numbers them per final
    (unique, so two processes can never both write step n); `mono_ns`/`boot` are the server's
    monotonic receive time of a press, the fairness key."""

    __table_args__ = (UniqueConstraint("final_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    final_id: Mapped[int] = mapped_column(ForeignKey("final.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    mono_ns: Mapped[int | None] = mapped_column(BigInteger)
    boot: Mapped[str] = mapped_column(String(40), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
