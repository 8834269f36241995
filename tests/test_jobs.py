"""Background jobs without Redis (the embedded default): a thread of the same process runs
them, the job row reports progress while the work's own transaction is still open, a job that
dies half way leaves nothing written and runs again from its page, and every route is the
organizer's and CSRF-checked (issue 11, item 5)."""
from __future__ import annotations

import io
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from quizapp.cli import cli
from quizapp.clock import utcnow
from quizapp.extensions import db
from quizapp.jobs import exports as export_jobs
from quizapp.jobs import roster as roster_jobs
from quizapp.jobs import rounds as round_jobs
from quizapp.models import AuditEvent, Job, PreparedPaper, Round, Unit, User
from quizapp.services import accounts, drawing
from quizapp.services import jobs as job_service
from quizapp.services.attempts import start_attempt, submit_attempt

from .conftest import csrf_from, login
from .test_import_hardening import confirm, organizer, upload, xlsx_bytes


def roster(count: int) -> bytes:
    return xlsx_bytes([["姓名", "单位", "准考证号"]] + [[f"人员{i}", f"单位{i % 7}", f"J{i:05d}"] for i in range(1, count + 1)])


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def job_row(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def started_job(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/admin/jobs/(\d+)$", response.headers["Location"]).group(1))


@pytest.fixture
def steps():
    """A job kind that reports progress and waits between steps until the test lets it go on."""
    gate = threading.Event()

    @job_service.handler("test_steps", "测试任务")
    def run_steps(ctx):
        for step in range(1, 6):
            ctx.progress(step, 10, f"第 {step} 步", force=True)
        gate.wait(20)
        return {"summary": "十步完成"}

    yield gate
    gate.set()
    job_service.join_threads()
    job_service.HANDLERS.pop("test_steps")


def test_progress_is_visible_while_the_job_runs_in_a_thread(app, client, build, steps):
    token = organizer(client, build)
    with app.app_context():
        job = job_service.submit("test_steps", {}, "十步")
        job_id = job.id
    assert app.config["JOBS_BACKEND"] == "thread"
    for _ in range(200):  # the thread writes its progress through a connection of its own
        data = client.get(f"/admin/jobs/{job_id}/status").get_json()
        if data["done"] == 5:
            break
        threading.Event().wait(0.05)
    assert data == {"ok": True, "id": job_id, "status": "running", "status_label": "进行中", "done": 5, "total": 10,
                    "percent": 50, "message": "第 5 步", "finished": False, "stale": False}
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert 'value="50"' in page and "job.js" in page and "<script>" not in page and "重新运行" not in page
    steps.set()
    job_service.join_threads()
    done = client.get(f"/admin/jobs/{job_id}/status").get_json()
    assert (done["status"], done["percent"], done["message"], done["finished"]) == ("done", 100, "十步完成", True)
    assert token


def test_a_large_web_roster_is_imported_by_a_job(app, client, build, monkeypatch):
    monkeypatch.setattr(roster_jobs, "INLINE_MAX_BYTES", 1000)
    token = organizer(client, build)
    page = upload(client, token, roster(300), "全县名单.xlsx").get_data(as_text=True)
    assert "检查通过：300 人" in page
    job_id = started_job(confirm(client, token, page))
    job_service.join_threads()
    job = job_row(app, job_id)
    assert (job.status, job.done, job.total, job.kind) == ("done", 300, 300, "roster_import")
    assert not Path(job.params["path"]).exists()  # the uploaded file goes once it is imported
    assert job.message == "已导入 300 人（新建单位 7 个）"
    assert count(app, User, User.role == "participant") == 300 and count(app, Unit) == 7
    with app.app_context():  # the audit entry is the organizer's who confirmed, not "命令行"
        event = db.session.scalar(select(AuditEvent).filter_by(action="roster.import"))
        assert event.actor_id == db.session.scalar(select(User.id).filter_by(username="admin"))
        password = accounts.unseal_initial(db.session.scalar(select(User.initial_password_enc).filter_by(username="J00150")))
    shown = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "已完成" in shown and "打印准考证" in shown and "重新运行" not in shown
    assert login(app.test_client(), "J00150", password).status_code == 302


def test_a_roster_job_that_dies_after_its_first_batch_writes_nothing_and_reruns(app, client, build, monkeypatch):
    monkeypatch.setattr(roster_jobs, "INLINE_MAX_BYTES", 1000)
    monkeypatch.setattr(accounts, "INSERT_CHUNK", 50)
    real_insert, calls = accounts.insert, []

    def dying_insert(table):
        calls.append(table)
        if len(calls) == 2:  # the first 50 people are in the transaction; the process "dies"
            raise RuntimeError("worker killed")
        return real_insert(table)

    monkeypatch.setattr(accounts, "insert", dying_insert)
    token = organizer(client, build)
    page = upload(client, token, roster(120), "名单.xlsx").get_data(as_text=True)
    job_id = started_job(confirm(client, token, page))
    job_service.join_threads()
    job = job_row(app, job_id)
    assert job.status == "failed" and "未写入任何数据" in job.message
    assert count(app, User, User.role == "participant") == 0 and count(app, Unit) == 0
    assert count(app, AuditEvent, AuditEvent.action == "roster.import") == 0
    failed = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "重新运行" in failed
    monkeypatch.setattr(accounts, "insert", real_insert)
    response = client.post(f"/admin/jobs/{job_id}/rerun", data={"csrf_token": csrf_from(failed)})
    assert response.status_code == 302
    job_service.join_threads()
    job = job_row(app, job_id)
    assert (job.status, job.runs, job.done) == ("done", 2, 120)
    assert count(app, User, User.role == "participant") == 120 and count(app, Unit) == 7


def test_a_roster_that_no_longer_passes_fails_the_job_with_its_problems(app, client, build, monkeypatch):
    monkeypatch.setattr(roster_jobs, "INLINE_MAX_BYTES", 1000)
    token = organizer(client, build)
    page = upload(client, token, roster(40), "名单.xlsx").get_data(as_text=True)
    build.participant("J00007", unit="单位0")  # someone takes a number between report and confirm
    job_id = started_job(confirm(client, token, page))
    job_service.join_threads()
    job = job_row(app, job_id)
    assert job.status == "failed" and job.message == "名单有 1 类问题，未导入任何人员"
    assert "准考证号 J00007 已被系统中的人员使用" in job.result["errors"][0]
    assert "J00007 已被系统中的人员使用" in client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert count(app, User, User.role == "participant") == 1


def test_opening_a_large_round_draws_its_papers_in_a_job(app, client, build, clock, monkeypatch):
    monkeypatch.setattr(round_jobs, "INLINE_MAX", 2)
    build.bank()
    for n in range(1, 6):
        build.participant(f"r{n}")
    round_id = build.round(open_=False)
    token = organizer(client, build)
    job_id = started_job(client.post(f"/admin/rounds/{round_id}/open", data={"csrf_token": token}))
    job_service.join_threads()
    job = job_row(app, job_id)
    assert (job.status, job.done, job.total, job.result["drawn"]) == ("done", 5, 5, 5)
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.status == "open"
        papers = {p.user_id: p.items for p in db.session.scalars(select(PreparedPaper).filter_by(round_id=round_id))}
        users = db.session.scalars(select(User).where(User.role == "participant")).all()
        # The job drew exactly the papers a start would draw (same seeds): where it ran changes nothing.
        assert {u.id: [[q, o] for q, o in drawing.draw_now(round_, u, None)[0]] for u in users} == papers
    assert "查看本轮" in client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)


def test_a_round_job_that_dies_while_writing_leaves_the_round_a_draft(app, client, build, clock, monkeypatch):
    monkeypatch.setattr(round_jobs, "INLINE_MAX", 2)
    build.bank()
    for n in range(1, 4):
        build.participant(f"r{n}")
    round_id = build.round(open_=False)
    token = organizer(client, build)

    def dying(rows):
        db.session.execute(drawing.insert(PreparedPaper), rows[:1])  # the first batch is in …
        raise RuntimeError("worker killed")  # … and the process dies

    monkeypatch.setattr("quizapp.services.rounds.insert_papers", dying)
    job_id = started_job(client.post(f"/admin/rounds/{round_id}/open", data={"csrf_token": token}))
    job_service.join_threads()
    assert job_row(app, job_id).status == "failed"
    assert count(app, PreparedPaper) == 0 and count(app, AuditEvent, AuditEvent.action == "round.open") == 0
    with app.app_context():
        assert db.session.get(Round, round_id).status == "draft"
    monkeypatch.undo()
    with app.app_context():
        job_service.rerun(db.session.get(Job, job_id))
    job_service.join_threads()
    assert job_row(app, job_id).status == "done" and count(app, PreparedPaper) == 3


def test_a_small_round_still_opens_inside_the_request(app, client, build, clock):
    build.bank()
    build.participant("s1")
    round_id = build.round(open_=False)
    token = organizer(client, build)
    response = client.post(f"/admin/rounds/{round_id}/open", data={"csrf_token": token})
    assert response.headers["Location"].endswith(f"/admin/rounds/{round_id}") and count(app, Job) == 0
    assert count(app, PreparedPaper) == 1


def test_a_large_export_is_written_by_a_job_and_downloaded(app, client, build, clock, monkeypatch):
    monkeypatch.setattr(export_jobs, "INLINE_MAX", 0)
    build.bank()
    build.participant("e1", name="=王一")
    round_id = build.round()
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        submit_attempt(start_attempt(round_, db.session.scalar(select(User).filter_by(username="e1"))))
    token = organizer(client, build)
    offer = client.get(f"/admin/rounds/{round_id}/export?by=participant&format=xlsx").get_data(as_text=True)
    assert "开始生成 XLSX 文件" in offer and 'method="post"' in offer
    job_id = started_job(client.post(f"/admin/rounds/{round_id}/export",
                                     data={"csrf_token": csrf_from(offer), "by": "participant", "format": "xlsx"}))
    job_service.join_threads()
    assert job_row(app, job_id).status == "done"
    assert "下载 初赛-个人排名.xlsx" in client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    download = client.get(f"/admin/jobs/{job_id}/download")
    assert download.status_code == 200 and "filename*=UTF-8''" in download.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(download.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "姓名", "准考证号") and rows[1][1] == "=王一" and len(rows) == 2
    assert sheet["B2"].data_type == "s"  # text, never a formula
    with app.app_context():
        assert not list(export_jobs.export_folder().glob("*.part"))


def test_cli_roster_import_shows_a_progress_bar_and_keeps_a_job(app, runner, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text("姓名,单位\n" + "".join(f"人员{i},县财政局\n" for i in range(30)), encoding="utf-8")
    result = runner.invoke(cli, ["roster", "import", str(path), "--passwords", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert "[##############################] 100% 30/30" in result.output
    assert "已导入 30 人（新建单位 1 个，准考证号 KS0001–KS0030 由系统生成），初始密码已写入" in result.output
    with app.app_context():
        job = db.session.scalar(select(Job))
        assert (job.kind, job.status, job.done, job.total) == ("roster_import", "done", 30, 30)
        assert path.exists()  # the CLI's own file is never removed


def test_a_job_runs_once_and_only_a_failed_or_stale_one_reruns(app, ctx, steps):
    steps.set()
    job = job_service.create("test_steps", {}, "一次")
    assert job_service.run(job.id) is not None and job_service.run(job.id) is None  # delivered twice, run once
    job = db.session.get(Job, job.id)
    assert job.status == "done" and job.runs == 1
    with pytest.raises(job_service.ServiceError):
        job_service.rerun(job)
    job.status, job.heartbeat_at = "running", utcnow()
    db.session.commit()
    assert not job_service.can_rerun(job)  # may still be running somewhere
    job.heartbeat_at = utcnow() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 1)
    db.session.commit()
    assert job_service.is_stale(job) and job_service.can_rerun(job)


def test_job_routes_are_the_organizers_and_need_csrf(app, client, build, steps):
    steps.set()
    with app.app_context():
        job = job_service.create("test_steps", {}, "权限")
        job_id = job.id
        job.status = "failed"
        db.session.commit()
    urls = ["/admin/jobs", f"/admin/jobs/{job_id}", f"/admin/jobs/{job_id}/status", f"/admin/jobs/{job_id}/download"]
    anonymous = app.test_client()
    assert all(anonymous.get(url).status_code in (302, 401) for url in urls)
    build.participant("p1")
    login(client, "p1")
    assert all(client.get(url).status_code in (403, 404) for url in urls)
    assert client.post(f"/admin/jobs/{job_id}/rerun", data={"csrf_token": csrf_from(client.get("/lobby").get_data(as_text=True))}).status_code in (403, 404)
    admin = app.test_client()
    build.admin()
    login(admin, "admin")
    assert admin.get(f"/admin/jobs/{job_id}").status_code == 200
    assert admin.post(f"/admin/jobs/{job_id}/rerun").status_code == 400  # no CSRF token
    assert job_row(app, job_id).status == "failed"
    assert admin.get(f"/admin/jobs/{job_id}/download").status_code == 404  # not an export


def test_a_stale_run_that_wakes_up_after_a_rerun_writes_nothing(app, client, monkeypatch):
    """A worker that only looked dead (no heartbeat) and finishes after the job was run again:
    its work is rolled back, so the job's work is written once, by the run that owns it."""
    from quizapp.models import AppSetting

    gate = threading.Event()

    @job_service.handler("test_write", "测试写入")
    def run_write(ctx):
        gate.wait(20)
        db.session.add(AppSetting(key=f"run-{ctx.run_number}", value="x"))
        db.session.flush()
        return {"summary": "写入"}

    try:
        with app.app_context():
            job_id = job_service.submit("test_write", {}, "写入").id
        for _ in range(200):
            if job_row(app, job_id).status == "running":
                break
            threading.Event().wait(0.02)
        monkeypatch.setitem(app.config, "JOBS_STALE_SECONDS", 0)
        with app.app_context():
            job_service.rerun(db.session.get(Job, job_id))  # run 2 starts while run 1 still waits
        for _ in range(200):
            if job_row(app, job_id).runs == 2:
                break
            threading.Event().wait(0.02)
        gate.set()
        job_service.join_threads()
    finally:
        gate.set()
        job_service.HANDLERS.pop("test_write")
    job = job_row(app, job_id)
    assert (job.status, job.runs) == ("done", 2)
    with app.app_context():
        assert db.session.scalars(select(AppSetting.key).where(AppSetting.key.like("run-%"))).all() == ["run-2"]


def test_worker_without_redis_says_jobs_run_in_the_web_process(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    result = runner.invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 1 and "未设置 QUIZAPP_REDIS_URL" in result.output and "Traceback" not in result.output
