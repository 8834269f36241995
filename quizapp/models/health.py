"""Computed 体检 (health check) reports, cached so a page is one read.

A report is keyed by the sorted ids of the rounds it covers ("12" or "3,5,7"). It is computed
once per published round (quizapp.services.health) and marked `stale` by every answer-key
correction or voiding, so the next request (or a background job) computes it again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class HealthReport(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    round_key: Mapped[str] = mapped_column(String(200), unique=True)
    round_ids: Mapped[list] = mapped_column(JSON)
    payload: Mapped[dict] = mapped_column(JSON)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
