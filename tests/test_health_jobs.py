"""The 体检 is computed by a background job, never inside a request: a cold page is the job's
progress page, the job's report then shows; closing or publishing a round and every correction
start the recompute (a failure to start it never fails the correction); a stale report is shown
with a notice while the new one is computed; the liaison's report waits politely. (The
participant's result page already read only the kept report: test_health_routes.)"""
import os

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Correction, HealthReport, Job, Question, Round
from quizapp.services import health, health_jobs
from quizapp.services import jobs as job_service

from .conftest import csrf_from, login
from .test_health_routes import compute, kept_round, liaison, organizer_pages, unit_id  # noqa: F401  (fixture)
from .test_health_service import UNITS, health_round  # noqa: F401,F811  (fixture)
from .test_jobs_redis import rq_app, worker  # noqa: F401  (fixture)

COUNTED = "计入的作答题次<strong>"
STALE = "<strong>数据已更正，正在重新计算…</strong>"  # the notice (the explanations mention it too)
NOTICE = 'class="recompute"'


@pytest.fixture
def held(monkeypatch):
    """Jobs are created but not started (as with a busy RQ worker): the test runs them itself."""
    monkeypatch.setattr(job_service, "enqueue", lambda job: None)


def health_jobs_of(app, rid: int) -> list[Job]:
    with app.app_context():
        return [j for j in db.session.scalars(select(Job).where(Job.kind == "health").order_by(Job.id))
                if j.params == {"round_ids": [rid]}]


def reports(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(HealthReport))


def run(app, job_id: int) -> None:
    with app.app_context():
        job_service.run(job_id)
        assert db.session.get(Job, job_id).status == "done"


def test_a_cold_page_is_the_jobs_progress_and_computes_nothing(app, client, health_round, held):
    login(client, "admin")
    uid = unit_id(app, UNITS[0])
    for path in organizer_pages(health_round, uid):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, path
        assert "正在计算体检" in html and "job.js" in html and "<progress" in html, path
    assert reports(app) == 0  # nothing computed inside any request
    jobs = health_jobs_of(app, health_round)
    assert len(jobs) == 1 and jobs[0].status == "queued"  # every page found the same job
    run(app, jobs[0].id)
    html = client.get(f"/admin/health?rounds={health_round}").get_data(as_text=True)
    assert "全县（各单位按答题数加权）" in html and "正在计算" not in html and "<script" not in html


def test_without_redis_the_job_runs_in_a_thread_and_the_page_then_shows_the_report(app, client, health_round):
    assert app.config["JOBS_BACKEND"] == "thread"
    login(client, "admin")
    assert "正在计算体检" in client.get(f"/admin/health?rounds={health_round}").get_data(as_text=True)
    job_service.join_threads()
    html = client.get(f"/admin/health?rounds={health_round}").get_data(as_text=True)
    assert "全县（各单位按答题数加权）" in html
    [job] = health_jobs_of(app, health_round)
    assert job.status == "done" and client.get(f"/admin/jobs/{job.id}/status").get_json()["finished"]


def void_through_the_page(app, client, rid: int, mode="drop"):
    with app.app_context():
        shown = {i["id"] for i in health.kept_part([db.session.get(Round, rid)], "items")["items"]}
        question_id = next(q.id for q in db.session.scalars(select(Question).order_by(Question.id)) if q.id in shown)
    token = csrf_from(client.get(f"/admin/questions/{question_id}").get_data(as_text=True))
    return client.post(f"/admin/questions/{question_id}/void", data={"csrf_token": token, "mode": mode,
                                                                     "reason": "表述有歧义"})


def counted(html: str) -> int:
    return int(html.split(COUNTED, 1)[1].split("<", 1)[0])


def test_a_correction_queues_a_recompute_and_the_stale_report_says_so(app, client, kept_round, held):
    login(client, "admin")
    before = counted(client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True))
    assert void_through_the_page(app, client, kept_round).status_code == 302
    job = health_jobs_of(app, kept_round)[-1]
    assert job.status == "queued"  # queued by the correction, after it committed
    stale = client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)
    assert STALE in stale and counted(stale) == before and "job.js" in stale
    outline = client.get(f"/admin/health/outline?rounds={kept_round}").get_data(as_text=True)
    assert STALE in outline
    export = client.get(f"/admin/health/export?rounds={kept_round}")
    assert "spreadsheetml" not in export.content_type and STALE in export.get_data(as_text=True)
    assert len(health_jobs_of(app, kept_round)) == 2  # the pages found the correction's job
    run(app, job.id)
    after = client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)
    assert counted(after) == before - 12 and NOTICE not in after
    assert "spreadsheetml" in client.get(f"/admin/health/export?rounds={kept_round}").content_type


def test_a_recompute_that_started_before_a_correction_does_not_count_for_it(app, kept_round, held):
    with app.app_context():
        rounds = [db.session.get(Round, kept_round)]
        first = health_jobs.ensure(rounds)
        first.status, first.started_at = "running", first.created_at  # reading before the correction
        db.session.commit()
        assert health_jobs.ensure(rounds).id == first.id  # a page waits for it
        health.invalidate_reports()
        db.session.commit()
        [second] = health_jobs.after_correction()
        assert second.id != first.id


def test_a_failure_to_start_the_recompute_does_not_fail_the_correction(app, client, kept_round, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    login(client, "admin")
    monkeypatch.setattr(health_jobs, "ensure", broken)
    response = void_through_the_page(app, client, kept_round)
    assert response.status_code == 302 and "/admin/corrections/" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Correction)) == 1
    monkeypatch.undo()
    page = client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)
    assert STALE in page  # the page starts what the correction could not
    job_service.join_threads()
    assert NOTICE not in client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)


def test_closing_a_round_computes_its_report_in_the_background(app, client, build, clock, held):
    build.bank()
    build.admin()
    build.participant("p1")
    rid = build.round()
    login(client, "admin")
    token = csrf_from(client.get(f"/admin/rounds/{rid}").get_data(as_text=True))
    response = client.post(f"/admin/rounds/{rid}/close", data={"csrf_token": token, "confirm": "1", "reason": "测试"})
    assert response.status_code == 302
    [job] = health_jobs_of(app, rid)
    client.post(f"/admin/rounds/{rid}/publish", data={"csrf_token": token})
    assert len(health_jobs_of(app, rid)) == 1  # publishing finds the job of the close
    run(app, job.id)
    client.post(f"/admin/rounds/{rid}/unpublish", data={"csrf_token": token})
    client.post(f"/admin/rounds/{rid}/publish", data={"csrf_token": token})
    assert len(health_jobs_of(app, rid)) == 1  # the kept report is fresh: nothing to do


def test_a_failed_computation_offers_to_start_again(app, client, health_round, held):
    login(client, "admin")
    client.get(f"/admin/health?rounds={health_round}")
    [job] = health_jobs_of(app, health_round)
    with app.app_context():
        row = db.session.get(Job, job.id)
        row.status, row.message = "failed", "任务出错，未写入任何数据"
        db.session.commit()
    page = client.get(f"/admin/health?rounds={health_round}").get_data(as_text=True)
    assert "体检计算没有完成" in page and "重新计算" in page and "job.js" not in page
    assert len(health_jobs_of(app, health_round)) == 1  # no new job on every view of a failure
    assert client.post(f"/admin/health/recompute?rounds={health_round}", data={}).status_code == 400
    response = client.post(f"/admin/health/recompute?rounds={health_round}", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and len(health_jobs_of(app, health_round)) == 2


def test_liaison_report_before_the_first_computation(app, client, health_round, held):
    liaison(app, "l1", UNITS[0])
    login(client, "l1")
    page = client.get(f"/unit/report?rounds={health_round}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "正在统计" in html and 'http-equiv="refresh"' in html
    assert reports(app) == 0 and len(health_jobs_of(app, health_round)) == 1
    client.get(f"/unit/report?rounds={health_round}")
    [job] = health_jobs_of(app, health_round)
    run(app, job.id)
    html = client.get(f"/unit/report?rounds={health_round}").get_data(as_text=True)
    assert "单位排名" in html and "正在统计" not in html
    with app.app_context():
        health.invalidate_reports()
        db.session.commit()
    html = client.get(f"/unit/report?rounds={health_round}").get_data(as_text=True)
    assert STALE in html and "单位排名" in html and "job.js" not in html



@pytest.mark.skipif(not os.environ.get("QUIZAPP_TEST_REDIS_URL"), reason="QUIZAPP_TEST_REDIS_URL not set (.ci/run sets it)")
def test_with_redis_a_worker_process_computes_the_report(rq_app, client, health_round):  # noqa: F811
    app, queue = rq_app
    login(client, "admin")
    assert "正在计算体检" in client.get(f"/admin/health?rounds={health_round}").get_data(as_text=True)
    [job] = health_jobs_of(app, health_round)
    assert job.status == "queued" and reports(app) == 0  # on the queue, nothing run in the web process
    process = worker(app, queue, burst=True)
    output = process.communicate(timeout=180)[0].decode()
    assert process.returncode == 0, output
    assert health_jobs_of(app, health_round)[0].status == "done", output[-3000:]
    assert "全县（各单位按答题数加权）" in client.get(f"/admin/health?rounds={health_round}").get_data(as_text=True)
