"""Computing a 体检 (quizapp.services.health) as a job: the 体检 pages never compute it in a
request (quizapp.services.health_jobs starts this job and the pages wait for it). The report is
written by `store_report` in its own single transaction (replacing any older one), so a killed
job leaves the previous report as it was.

Jobs of this kind run one at a time (a lock per process, and a PostgreSQL advisory lock held
until the report is committed, for several workers): a correction while a computation runs
queues a second one, which must write after the first — else the first, which may have read
the old points, could overwrite the corrected figures."""
from __future__ import annotations

import threading
import time

from sqlalchemy import text

from ..extensions import db
from ..models import Round
from ..services import ServiceError
from ..services.jobs import JobContext, handler

COMPUTE_LOCK = 0x71756932  # PostgreSQL advisory lock: one 体检 computation at a time
WAIT_STEP = 2.0  # seconds between tries while another computation holds the lock
_local_lock = threading.Lock()


def _wait_for_turn(ctx: JobContext) -> bool:
    """Take the compute lock, reporting (and so keeping the job's heartbeat fresh) while
    waiting. Returns whether the process lock was taken (the caller releases it)."""
    postgres = db.engine.dialect.name == "postgresql"
    if not postgres:
        while not _local_lock.acquire(timeout=WAIT_STEP):
            ctx.progress(0, 1, "等待上一次体检计算完成", force=True)
        return True
    # Held by this session's transaction until store_report commits (or the job rolls back).
    while not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": COMPUTE_LOCK}).scalar():
        ctx.progress(0, 1, "等待上一次体检计算完成", force=True)
        time.sleep(WAIT_STEP)
    return False


@handler("health", "计算体检")
def run_health(ctx: JobContext) -> dict:
    from ..services import health

    rounds = [db.session.get(Round, round_id) for round_id in ctx.params["round_ids"]]
    if not rounds or any(r is None for r in rounds):
        raise ServiceError("轮次已被删除")
    for round_ in rounds:
        if round_.status != "closed":
            raise ServiceError(f"「{round_.name}」尚未结束，结束后才能体检")
    local = _wait_for_turn(ctx)
    try:
        ctx.progress(0, 1, "正在计算体检（正确率、题目分析）", force=True)
        report = health.store_report(rounds)
    finally:
        if local:
            _local_lock.release()
    return {"summary": "体检已计算完成", "round_key": report.round_key}
