"""The one place the application reads the time.

All stored times are naive UTC. Tests replace the clock with `app.config["CLOCK"]`, a
zero-argument callable returning naive UTC, to move past deadlines without sleeping.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context

DISPLAY_TZ = timezone(timedelta(hours=8))  # 北京时间; China keeps no daylight saving


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def now() -> datetime:
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return utcnow()


def to_local(moment: datetime | None) -> datetime | None:
    """Naive UTC → naive 北京时间, for display and for form fields (a fixed offset: China keeps
    no daylight saving, and plain addition is what 50,000-row exports can afford)."""
    if moment is None:
        return None
    return moment + DISPLAY_TZ.utcoffset(None)


def from_local(moment: datetime) -> datetime:
    """Naive 北京时间 (as typed into a form) → naive UTC."""
    return moment.replace(tzinfo=DISPLAY_TZ).astimezone(timezone.utc).replace(tzinfo=None)
