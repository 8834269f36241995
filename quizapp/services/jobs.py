"""Background jobs: long work (a roster of 48,000, drawing tens of thousands of papers, a
50,000-row export, a 体检) runs outside the web request that asked for it.

Backends (config JOBS_BACKEND, env QUIZAPP_JOBS):
- "rq": the job is put on an RQ queue in Redis (REDIS_URL, queue JOBS_QUEUE) and run by
  `quizapp worker`. The default whenever QUIZAPP_REDIS_URL is set.
- "thread": without Redis (the embedded default, `make demo`), the job runs in a background
  thread of the process that created it.
- `run_inline` runs one in the caller's process (the CLI, with a progress bar).
Every backend runs the same `run(job_id)` and keeps the same `job` row up to date, so pages
and the CLI read progress the same way whichever ran it.

Contract for a handler (`@handler(kind)`, in quizapp.jobs): it gets a `JobContext`, may call
`ctx.progress(done, total, message)` as often as it likes, does its writes in `db.session`
WITHOUT committing, and returns a JSON-able result. `run` then marks the job done in that
same transaction, so a worker killed at any moment (kill -9) leaves either everything or
nothing written. A handler refuses with ServiceError (its message is shown); the job is then
"failed" and nothing it wrote stays. A killed job stays "running" with an old heartbeat; it can
be run again (`rerun`) once it is stale. `run` claims a job atomically (queued → running), so a
job delivered twice, or rerun twice, still runs once.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from flask import current_app, g, has_app_context
from sqlalchemy import select, update

from ..clock import utcnow
from ..extensions import db
from ..models import Job
from . import ServiceError

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[["JobContext"], dict]] = {}
KIND_LABELS: dict[str, str] = {}
STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
PROGRESS_EVERY = 0.5  # seconds between progress writes: enough for a bar, cheap for the database
RQ_TIMEOUT = 3 * 3600
_threads: dict[int, threading.Thread] = {}
_worker_pid: int | None = None


class JobRefused(ServiceError):
    """A handler's refusal with details for the page (e.g. every problem of a roster)."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details


def handler(kind: str, label: str):
    """Register the function that does jobs of `kind` (`label`: its Chinese name)."""
    def register(function):
        HANDLERS[kind] = function
        KIND_LABELS[kind] = label
        return function
    return register


@dataclass
class JobContext:
    """What a handler gets: the job's id and params, and `progress` to report with."""

    job_id: int
    params: dict
    created_by: int | None = None
    on_progress: Callable[[int, int, str], None] | None = None
    extra: dict = field(default_factory=dict)  # in-memory results for an inline caller (the CLI)
    run_number: int = 0  # which run of the job this is (a rerun counts up)
    after_commit: list = field(default_factory=list)  # callables run once the job's work is committed
    _last: float = 0.0

    def progress(self, done: int, total: int, message: str | None = None, force: bool = False) -> None:
        """Record progress. Written through a connection of its own (so the page sees it while
        the handler's transaction is still open), at most every PROGRESS_EVERY seconds."""
        if self.on_progress:
            self.on_progress(done, total, message or "")
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY and done < total:
            return
        if _session_holds_sqlite_write_lock():
            return  # another connection would wait on our own lock; the final commit says the rest
        self._last = now
        values = {"done": done, "total": total, "heartbeat_at": utcnow()}
        if message is not None:
            values["message"] = message
        with db.engine.begin() as connection:
            connection.execute(update(Job.__table__).where(Job.id == self.job_id, Job.runs == self.run_number,
                                                           Job.status == "running").values(**values))


def _session_holds_sqlite_write_lock() -> bool:
    """True while this session has written on SQLite and not yet committed: SQLite has one
    writer, so a second connection's progress write would wait for us (and we for it)."""
    session = db.session()
    if db.engine.dialect.name != "sqlite" or not session.in_transaction():
        return False
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


def backend() -> str:
    return current_app.config.get("JOBS_BACKEND") or ("rq" if current_app.config.get("REDIS_URL") else "thread")


def create(kind: str, params: dict, title: str, user_id: int | None = None) -> Job:
    """A queued job row, committed (a worker or thread may pick it up at once)."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind: {kind}")
    job = Job(kind=kind, params=params, title=title[:200], created_by=user_id, status="queued", message="等待开始")
    db.session.add(job)
    db.session.commit()
    return job


def submit(kind: str, params: dict, title: str, user_id: int | None = None) -> Job:
    """Create a job and start it on the configured backend; returns at once."""
    job = create(kind, params, title, user_id)
    enqueue(job)
    return job


def enqueue(job: Job) -> None:
    """Start a queued job: on the RQ queue, or in a background thread without Redis. A queue
    that cannot be reached fails the job with a message saying what to check."""
    if backend() == "rq":
        try:
            _queue().enqueue_call("quizapp.services.jobs.rq_entry", args=(job.id,), timeout=RQ_TIMEOUT,
                                  result_ttl=3600, failure_ttl=7 * 86400, description=f"quizapp job {job.id}")
        except Exception as exc:  # noqa: BLE001 — any Redis error means the same to the organizer
            log.error("job %s could not be queued: %s", job.id, exc)
            _finish(job.id, None, message="无法加入任务队列：连接不上 Redis（QUIZAPP_REDIS_URL）。"
                                              "请检查 Redis 和 quizapp worker 是否在运行，然后点“重新运行”")
        return
    app = current_app._get_current_object()
    thread = threading.Thread(target=_thread_main, args=(app, job.id), name=f"quizapp-job-{job.id}", daemon=True)
    _threads[job.id] = thread
    thread.start()


def _queue():
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=3)
    return Queue(current_app.config.get("JOBS_QUEUE") or "quizapp", connection=connection)


def _thread_main(app, job_id: int) -> None:
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


def join_threads(timeout: float = 60) -> None:
    """Wait for the background threads this process started (tests; a clean shutdown)."""
    deadline = time.monotonic() + timeout
    for job_id, thread in list(_threads.items()):
        thread.join(max(0.0, deadline - time.monotonic()))
        if not thread.is_alive():
            _threads.pop(job_id, None)


def mark_worker_process() -> None:
    """Called by `quizapp worker` before it starts: RQ runs each job in a forked child, which
    must not reuse the parent's database connections."""
    global _worker_pid
    _worker_pid = os.getpid()


def rq_entry(job_id: int) -> None:
    """The function RQ calls (in `quizapp worker`, or a plain `rq worker` with the app importable)."""
    if not has_app_context():
        from .. import create_app

        with create_app().app_context():
            run(job_id)
        return
    if _worker_pid is not None and os.getpid() != _worker_pid:
        db.engine.dispose(close=False)  # the forked child opens connections of its own
    try:
        run(job_id)
    finally:
        db.session.remove()


def run(job_id: int, on_progress=None, extra: dict | None = None) -> JobContext | None:
    """Claim and run one job. Returns its context, or None if it was not queued (already run,
    being run elsewhere). Never raises for a failure of the work itself: the job records it."""
    from .. import jobs as _handlers  # noqa: F401 — registers the handlers

    now = utcnow()
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued")
        .values(status="running", runs=Job.runs + 1, started_at=now, heartbeat_at=now, finished_at=None,
                done=0, message="正在处理")).rowcount
    db.session.commit()
    if not claimed:
        return None
    job = db.session.get(Job, job_id)
    kind, run_number = job.kind, job.runs
    ctx = JobContext(job.id, dict(job.params or {}), job.created_by, on_progress, dict(extra or {}), run_number)
    g.job_actor_id = ctx.created_by  # audit entries the job writes are the organizer's who asked
    try:
        result = HANDLERS[kind](ctx)
        total = db.session.scalar(select(Job.total).where(Job.id == job_id))
        # Only the run that owns the job may finish it: a stale run that was rerun meanwhile (its
        # worker was not dead after all) rolls back its work here, so nothing is written twice.
        owned = db.session.execute(update(Job).where(Job.id == job_id, Job.runs == run_number, Job.status == "running")
                                   .values(status="done", result=result, finished_at=utcnow(), done=total,
                                           message=(result or {}).get("summary", "已完成"))).rowcount
        if not owned:
            db.session.rollback()
            log.warning("job %s run %s was superseded by a rerun; its work was rolled back", job_id, run_number)
            return None
        db.session.commit()
        for callback in ctx.after_commit:
            try:
                callback()
            except Exception:  # noqa: BLE001 — the work is committed; tidying up may fail alone
                log.exception("job %s: after-commit step failed", job_id)
    except ServiceError as exc:
        db.session.rollback()
        _finish(job_id, run_number, message=str(exc), result=getattr(exc, "details", None))
    except Exception:  # noqa: BLE001 — the job must end "failed", whatever went wrong
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, kind)
        _finish(job_id, run_number, message="任务出错，未写入任何数据（错误已记入服务器日志）。可以重新运行")
    finally:
        g.pop("job_actor_id", None)
    return ctx


def _finish(job_id: int, run_number: int | None, message: str, result: dict | None = None) -> None:
    """Mark the job failed — if `run_number` still owns it (None: whichever run)."""
    query = update(Job).where(Job.id == job_id)
    if run_number is not None:
        query = query.where(Job.runs == run_number)
    db.session.execute(query.values(status="failed", message=message[:4000], result=result, finished_at=utcnow()))
    db.session.commit()


def run_inline(kind: str, params: dict, title: str, on_progress=None, user_id: int | None = None,
               extra: dict | None = None) -> tuple[Job, JobContext]:
    """Create a job and run it here and now (the CLI): same row, same progress, same rules.
    `extra` hands the handler what the caller already has (a roster it has just read)."""
    job = create(kind, params, title, user_id)
    ctx = run(job.id, on_progress, extra)
    db.session.expire_all()
    return db.session.get(Job, job.id), ctx


def is_stale(job: Job) -> bool:
    """A queued or running job nobody has reported on for JOBS_STALE_SECONDS: its worker or
    process is gone (killed, restarted) and it will not finish by itself."""
    if job.finished:
        return False
    last = job.heartbeat_at or job.created_at
    return utcnow() - last > timedelta(seconds=current_app.config.get("JOBS_STALE_SECONDS", 300))


def can_rerun(job: Job) -> bool:
    return job.status == "failed" or is_stale(job)


def rerun(job: Job) -> Job:
    """Run a failed or stale job again with the same params. Refused while it may still be running."""
    if not can_rerun(job):
        raise ServiceError("该任务仍在进行或已完成，不能重新运行")
    job.status, job.done, job.result, job.finished_at = "queued", 0, None, None
    job.message, job.heartbeat_at = "等待重新开始", utcnow()
    db.session.commit()
    enqueue(job)
    return job


def status(job: Job) -> dict:
    """The job as the page's script reads it."""
    return {"ok": True, "id": job.id, "status": job.status, "status_label": STATUS_LABELS.get(job.status, job.status),
            "done": job.done, "total": job.total, "percent": job.percent, "message": job.message or "",
            "finished": job.finished, "stale": is_stale(job)}


def active_for(kind: str, key: str, value) -> Job | None:
    """The unfinished, not stale job of `kind` whose params[key] is `value` (one round's opening)."""
    for job in db.session.scalars(select(Job).where(Job.kind == kind, Job.status.in_(("queued", "running")))):
        if (job.params or {}).get(key) == value and not is_stale(job):
            return job
    return None
