"""Units and the people in them: organizers, unit liaisons and participants."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

ROLES = {"admin": "组织者", "liaison": "单位联络员", "participant": "参赛人员", "team": "决赛队伍"}


class Unit(db.Model):
    """A work unit (单位). `group_name` groups units for filtering (e.g. 乡镇 / 县直部门)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    group_name: Mapped[str | None] = mapped_column(String(50))
    # An organizer-set position in unit lists; units without one follow in 拼音 order.
    sort_order: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="unit")


class User(UserMixin, db.Model):
    """An organizer ("admin"), a unit liaison ("liaison", with a unit) or a participant
    ("participant", with a unit; `username` is the admission number 准考证号).

    `initial_password_enc` keeps the generated password, encrypted with the app's key, only so
    admission slips can be printed; it is cleared when the password is changed or reset."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="participant")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    branch: Mapped[str | None] = mapped_column(String(100))  # 党支部, when the roster names one
    password_hash: Mapped[str] = mapped_column(String(256))
    initial_password_enc: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Copied into the signed session at sign-in; raising it (sign-out, disabling, a password
    # reset) ends every session that carries an older value, on every device.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship(back_populates="members")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_liaison(self) -> bool:
        return self.role == "liaison"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active
