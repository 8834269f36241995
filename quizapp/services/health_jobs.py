"""The 体检 is never computed inside a web request: pages read the kept report
(quizapp.services.health) and, when it is missing or stale, find or start the background job
of kind "health" (quizapp.jobs.health) that computes it.

- `state(rounds)`: what a page can show now — the kept report (None when there is none, or it
  was written by an older version of the app and its shape may differ), whether it is stale
  (a correction since), the recompute job under way, and the last job if it failed or hung.
- `ensure(rounds)`: the queued or running job for these rounds, or a new one. Safe when many
  requests ask at once (one lock per database, below), so a page, a liaison's report and the
  organizer's hooks never start the same computation twice.
- `after_round_change(round_)` (a round closed or published) and `after_correction()` (every
  stale report) are called by the organizer's routes once their transaction has committed;
  they never raise — a job that cannot be started is started by the next page that needs it.

The hooks live in the routes, not in quizapp.services.rounds/corrections, because the CLI
(`quizapp demo`) calls those services too, and a job thread started there would die with the
CLI process and leave a job that looks "running" until it goes stale.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text

from ..clock import utcnow
from ..extensions import db
from ..models import HealthReport, Job, Round
from . import ServiceError, health
from . import jobs as job_service

log = logging.getLogger(__name__)

KIND = "health"
ENSURE_LOCK = 0x71756931  # PostgreSQL advisory lock: one `ensure` at a time (held for milliseconds)
RECENT = 50  # how many recent 体检 jobs to look through for one set of rounds


@dataclass
class KeptState:
    report: HealthReport | None  # a report the pages can show (right version), stale or not
    stale: bool                  # True when there is no report, or a correction came after it
    job: Job | None              # the queued or running recompute, if any
    problem: Job | None          # the last job, when it failed or hung and none is under way

    @property
    def ready(self) -> bool:
        """Fresh figures, nothing being recomputed: the page shows the report as it is."""
        return self.report is not None and not self.stale and self.job is None


def _ids(rounds: list[Round]) -> list[int]:
    return sorted({r.id for r in rounds})


def _jobs_for(ids: list[int]) -> list[Job]:
    """This set of rounds' recent 体检 jobs, newest first."""
    rows = db.session.scalars(select(Job).where(Job.kind == KIND).order_by(Job.id.desc()).limit(RECENT * 4))
    return [j for j in rows if (j.params or {}).get("round_ids") == ids][:RECENT]


def _active(jobs: list[Job], fresh_after: datetime | None = None) -> Job | None:
    """The newest queued or running, not hung, job; with `fresh_after`, only one that had not
    started reading by then (a run that began before a correction may have read old points)."""
    for job in jobs:
        if job.status not in ("queued", "running") or job_service.is_stale(job):
            continue
        if fresh_after is None or job.started_at is None or job.started_at > fresh_after:
            return job
    return None


def state(rounds: list[Round]) -> KeptState:
    """The kept report of `rounds` and its recompute, without computing anything. Raises
    ServiceError (in Chinese) for a round that is not closed yet."""
    report = health.get_report(rounds, compute=False)
    if report is not None and (report.payload or {}).get("version") != health.REPORT_VERSION:
        report = None  # kept by an older version of the app: its shape may not fit the pages
    jobs = _jobs_for(_ids(rounds))
    job = _active(jobs)
    problem = None
    if job is None and jobs and (jobs[0].status == "failed" or job_service.is_stale(jobs[0])):
        problem = jobs[0]
    return KeptState(report, report is None or report.stale, job, problem)


def ensure(rounds: list[Round], user_id: int | None = None, fresh_after: datetime | None = None) -> Job:
    """The 体检 job under way for `rounds`, or a new one started on the configured backend
    (quizapp.services.jobs: RQ, or a thread without Redis). Raises ServiceError for a round
    that is not closed. Commits."""
    for round_ in rounds:
        if round_.status != "closed":
            raise ServiceError(f"「{round_.name}」尚未结束，结束后才能体检")
    ids, title = _ids(rounds), "、".join(r.name for r in sorted(rounds, key=lambda r: r.id))
    db.session.commit()  # start the check below in a transaction of its own, on the newest data
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ENSURE_LOCK})
    job = Job(kind=KIND, params={"round_ids": ids}, title=title[:200], created_by=user_id, status="queued",
              message="等待开始")
    db.session.add(job)
    # On SQLite this insert takes the database's single write lock, so the check below cannot
    # interleave with another request's (on PostgreSQL the advisory lock above does that).
    db.session.flush()
    other = _active([j for j in _jobs_for(ids) if j.id != job.id], fresh_after)
    if other is not None:
        other_id = other.id
        db.session.rollback()
        return db.session.get(Job, other_id)
    db.session.commit()
    job_service.enqueue(job)
    return job


def _schedule(rounds: list[Round], user_id: int | None, fresh_after: datetime | None = None) -> Job | None:
    try:
        return ensure(rounds, user_id, fresh_after)
    except Exception:  # noqa: BLE001 — the caller's work is committed; the next page view retries
        db.session.rollback()
        log.exception("could not start the 体检 job for rounds %s", _ids(rounds))
        return None


def after_round_change(round_: Round, user_id: int | None = None) -> Job | None:
    """After a round was closed or published: compute its 体检 now, unless a fresh one is kept
    or being computed, so it is ready before anyone opens it. Never raises."""
    try:
        if round_.status != "closed" or state([round_]).ready:
            return None
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("could not read the 体检 of round %s", round_.id)
        return None
    return _schedule([round_], user_id)


def after_correction(user_id: int | None = None) -> list[Job]:
    """After an answer-key correction (or a void) committed: recompute every kept report it
    made stale (quizapp.services.health.invalidate_reports marks them all). A recompute that
    started before now may have read the old points, so a new job is queued beside it
    (quizapp.jobs.health runs them one after another). Never raises."""
    now = utcnow()
    started = []
    try:
        keys = db.session.execute(select(HealthReport.round_key, HealthReport.round_ids)
                                  .where(HealthReport.stale.is_(True))).all()
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("could not list the stale 体检 reports")
        return started
    for key, round_ids in keys:
        if "/" in key:
            continue  # a part of a report ("3/items"): recomputed with its report
        rounds = [db.session.get(Round, i) for i in round_ids or []]
        if not rounds or any(r is None or r.status != "closed" for r in rounds):
            continue
        job = _schedule(rounds, user_id, fresh_after=now)
        if job is not None:
            started.append(job)
    return started
