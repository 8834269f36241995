"""Competitions, their ordered rounds, who may take each round, and teams."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..clock import utcnow
from ..extensions import db
from .people import Unit, User

STAGES = ("初赛", "复赛", "决赛")
ROUND_STATUSES = {"draft": "未开放", "open": "进行中", "closed": "已结束"}
# What a person reads: an opened round waits as 未开始 until its start time.
ROUND_PHASES = {"draft": "未开放", "pending": "未开始", "open": "进行中", "closed": "已结束"}
TEAM_SCORING = {"shared": "全队共答一份试卷", "sum": "队员个人得分之和", "mean": "队员个人得分平均"}


class Competition(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    rounds: Mapped[list["Round"]] = relationship(back_populates="competition", order_by="Round.seq")


class Round(db.Model):
    """A timed round. `rules` is a list of paper sections (see quizapp.papers.Section);
    `points` maps question type to points. `draw_mode` "random" draws per person with
    `seed`, "fixed" gives everyone the same questions (order still shuffled per person).

    Who may take it: everyone registered, unless `restricted`, in which case only its
    `entrants` (filled by advancement from the previous round, or by hand). In a team round
    (`team_size` set) each unit fields one team; `team_scoring` says whether the team shares
    one paper or its members' own scores are summed or averaged. Results reach participants
    only once `published_at` is set."""

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
    avoid_seen: Mapped[bool] = mapped_column(Boolean, default=True)
    # Versions (quizapp.papers): superseded versions only where a rule names them and this is
    # ticked; two versions of one document on one paper only if the second box is ticked too.
    allow_superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    allow_mixed_versions: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    seed: Mapped[str] = mapped_column(String(64))
    show_score: Mapped[str] = mapped_column(String(16), default="after_close")
    unit_method: Mapped[str] = mapped_column(String(10), default="mean")
    unit_k: Mapped[int | None] = mapped_column(Integer)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    team_size: Mapped[int | None] = mapped_column(Integer)
    team_scoring: Mapped[str | None] = mapped_column(String(8))
    advancement: Mapped[dict | None] = mapped_column(JSON)
    prizes: Mapped[dict | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    competition: Mapped[Competition] = relationship(back_populates="rounds")
    entrants: Mapped[list["RoundEntrant"]] = relationship(back_populates="round", cascade="all, delete-orphan")

    @property
    def phase(self) -> str:
        """`status`, except that a round opened ahead of its start is "pending" until then."""
        if self.status == "open" and clock.now() < self.opens_at:
            return "pending"
        return self.status

    @property
    def status_label(self) -> str:
        return ROUND_PHASES[self.phase]

    @property
    def question_count(self) -> int:
        return sum(int(section["count"]) for section in self.rules)

    @property
    def is_team(self) -> bool:
        return bool(self.team_size)


class RoundEntrant(db.Model):
    """A person admitted to a restricted round, and why (`via` "rule" or "manual")."""

    __table_args__ = (UniqueConstraint("round_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    via: Mapped[str] = mapped_column(String(8), default="rule")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    round: Mapped[Round] = relationship(back_populates="entrants")
    user: Mapped[User] = relationship()


class Team(db.Model):
    """A unit's team in a team round."""

    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    name: Mapped[str] = mapped_column(String(120))

    unit: Mapped[Unit] = relationship()
    members: Mapped[list["TeamMember"]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMember(db.Model):
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


