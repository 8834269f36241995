"""Background jobs on RQ and Redis, run by a real `quizapp worker` process — and that worker
killed with SIGKILL half way through a 40,000-person roster: nothing is written, the job page
offers to run it again, and the rerun completes (issue 11, item 5). Needs QUIZAPP_TEST_REDIS_URL
(.ci/run sets redis://127.0.0.1:6379/15); each test uses a queue of its own."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from quizapp.extensions import db
from quizapp.jobs import roster as roster_jobs
from quizapp.models import Job, User
from quizapp.services import jobs as job_service
from quizapp.services.accounts import NumberRule

from .conftest import csrf_from
from .test_import_hardening import confirm, organizer, upload
from .test_jobs import roster, started_job

REDIS_URL = os.environ.get("QUIZAPP_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="QUIZAPP_TEST_REDIS_URL not set (.ci/run sets it)")
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rq_app(app, monkeypatch):
    """The test app sending jobs to a fresh queue of its own on the test Redis."""
    from redis import Redis
    from rq import Queue

    queue = f"quizapp-test-jobs-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", queue)
    yield app, queue
    Queue(queue, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def worker(app, queue: str, burst: bool) -> subprocess.Popen:
    env = {**os.environ, "QUIZAPP_REDIS_URL": REDIS_URL, "QUIZAPP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "QUIZAPP_SECRET_KEY": app.config["SECRET_KEY"], "QUIZAPP_JOBS_QUEUE": queue}
    args = [sys.executable, "-m", "quizapp.cli", "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(args, env=env, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (RQ forks a child per job, in a process group of its own)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User).where(User.role == "participant"))


@contextmanager
def _blocker(app):
    """Yields hold(): from then on, until the block ends, the job's writes wait on a lock (on
    PostgreSQL the audit table's, which the roster import writes after every person; on SQLite
    the database's one write lock)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    connection = engine.connect()
    try:
        def hold():
            if engine.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE audit_event IN SHARE ROW EXCLUSIVE MODE"))
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield hold
    finally:
        connection.rollback()  # releases the lock (both drivers end the transaction the BEGIN opened)
        connection.close()
        engine.dispose()


def job_state(app, job_id: int) -> tuple:
    with app.app_context():
        job = db.session.get(Job, job_id)
        return job.status, job.done, job.total, job.runs


def test_a_worker_process_runs_the_web_roster_job(rq_app, client, build, monkeypatch):
    app, queue = rq_app
    monkeypatch.setattr(roster_jobs, "INLINE_MAX_BYTES", 1000)
    token = organizer(client, build)
    page = upload(client, token, roster(250), "名单.xlsx").get_data(as_text=True)
    job_id = started_job(confirm(client, token, page))
    assert job_state(app, job_id)[0] == "queued" and people(app) == 0  # nothing runs in the web process
    process = worker(app, queue, burst=True)
    output = process.communicate(timeout=180)[0].decode()
    assert process.returncode == 0, output
    with app.app_context():
        message = db.session.get(Job, job_id).message
    assert job_state(app, job_id) == ("done", 250, 250, 1) and people(app) == 250, (message, output[-3000:])
    assert client.get(f"/admin/jobs/{job_id}/status").get_json()["percent"] == 100


def test_a_worker_killed_mid_job_leaves_nothing_and_the_job_reruns(rq_app, client, build, tmp_path, monkeypatch):
    app, queue = rq_app
    path = tmp_path / "全县名单.csv"
    path.write_text("姓名,单位\n" + "".join(f"人员{i},单位{i % 300}\n" for i in range(40_000)), encoding="utf-8")
    token = organizer(client, build)
    with app.app_context():
        job_id = job_service.submit("roster_import", roster_jobs.params(path, path.name, True, NumberRule(), False),
                                    path.name).id
    process = worker(app, queue, burst=False)
    # A fast machine imports 40,000 people in about two seconds, quicker than a poll can catch
    # it half way: once the job runs, a lock of the test's own holds it inside its transaction —
    # on PostgreSQL at the audit entry, written after every person; on SQLite (one writer) at
    # its first write — and the worker is killed there.
    with _blocker(app) as hold:
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                status, done, total, _ = job_state(app, job_id)
                if status == "running":
                    break
                assert status == "queued", status
                time.sleep(0.01)
            else:
                pytest.fail("the worker never started the job")
            hold()
            time.sleep(2.0)  # the job reads, checks and makes passwords, then waits on the lock
            assert job_state(app, job_id)[0] == "running"
            for pid in [process.pid, *descendants(process.pid)]:  # the worker and the child running the job
                os.kill(pid, signal.SIGKILL)
        finally:
            process.wait(30)
    time.sleep(0.5)
    status, _, _, runs = job_state(app, job_id)
    assert status == "running" and runs == 1  # killed inside its transaction (on PostgreSQL after every person was inserted)
    assert people(app) == 0  # nobody half imported
    monkeypatch.setitem(app.config, "JOBS_STALE_SECONDS", 0)  # no heartbeat since the kill
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "该任务已很久没有进展" in page and "重新运行" in page
    assert client.post(f"/admin/jobs/{job_id}/rerun", data={"csrf_token": csrf_from(page)}).status_code == 302
    rerun = worker(app, queue, burst=True)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    assert job_state(app, job_id) == ("done", 40_000, 40_000, 2) and people(app) == 40_000
    assert token
