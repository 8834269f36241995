"""Question banks, versioned questions, and answer-key corrections (勘误)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

VOID_MODES = {"award": "作废，所有人得分", "drop": "作废，不计入总分"}


class Bank(db.Model):
    """A bank file as imported. `document`/`version` name the text it asks about; a bank whose
    version is no longer `in_force` (superseded by `superseded_by`) is drawn only by rounds
    that ask for it explicitly (quizapp.papers)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    document: Mapped[str] = mapped_column(String(100), default="", server_default="")
    version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    in_force: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    superseded_by: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Question(db.Model):
    """One version of a question. A changed question gets a new row with version + 1; the old
    row stays (attempts point at the exact version they showed) with `is_current` False.
    `disabled` keeps a question out of future papers; `void` ("award"/"drop") is set by a
    correction and changes how every attempt that showed it is scored."""

    __table_args__ = (
        UniqueConstraint("qid", "version"),
        Index("ix_question_current", "is_current", "type"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id"), index=True)
    qid: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    void: Mapped[str | None] = mapped_column(String(8))
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
    # Questions of one group never share a paper (near-duplicates, pairs that give each other away).
    draw_group: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    bank: Mapped[Bank] = relationship()


class Correction(db.Model):
    """An answer-key correction or a voiding, with the re-scoring report it produced."""

    id: Mapped[int] = mapped_column(primary_key=True)
    qid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "rekey", "award", "drop", "restore"
    old_answer: Mapped[object | None] = mapped_column(JSON)
    new_answer: Mapped[object | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    report: Mapped[list] = mapped_column(JSON, default=list)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
