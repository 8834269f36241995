"""The organizer's and liaison's competition pages through the test client."""
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AuditEvent, Question, Round, User
from quizapp.services.attempts import save_response, start_attempt, submit_attempt

from .conftest import SAMPLE_BANK, csrf_from, login
from .test_attempts import correct_display


@pytest.fixture
def finished(app, build, clock):
    """A closed 初赛 taken by two people of 甲 and one of 乙; a draft 复赛 after it."""
    build.bank()
    build.admin()
    for username, unit in (("a1", "甲"), ("a2", "甲"), ("b1", "乙"), ("b2", "乙")):
        build.participant(username, unit=unit, name=f"人员{username}")
    first = build.round(sections=[{"type": "judge", "count": 3}])
    with app.app_context():
        round_ = db.session.get(Round, first)
        second = Round(competition_id=round_.competition_id, seq=2, stage="复赛", name="复赛", opens_at=round_.opens_at,
                       closes_at=round_.closes_at, time_limit_minutes=10, rules=round_.rules, points=round_.points, seed="x")
        db.session.add(second)
        for username, right in (("a1", 3), ("a2", 1), ("b1", 2)):
            attempt = start_attempt(round_, db.session.scalar(select(User).filter_by(username=username)))
            for item in attempt.items[:right]:
                save_response(attempt, item.position, correct_display(item), False)
            clock.advance(minutes=1)
            submit_attempt(attempt)
        round_.status = "closed"
        db.session.commit()
        return first, second.id


def admin(client):
    login(client, "admin")
    return csrf_from(client.get("/admin/").get_data(as_text=True))


def test_every_organizer_page_renders(app, client, finished):
    first, second = finished
    admin(client)
    with app.app_context():
        attempt_id = db.session.scalar(select(Attempt.id))
        question_id = db.session.scalar(select(Question.id))
    for url in ("/admin/", f"/admin/rounds/{first}", f"/admin/rounds/{first}/edit", f"/admin/rounds/{first}/attempts",
                f"/admin/attempts/{attempt_id}", f"/admin/rounds/{first}/advance", f"/admin/rounds/{first}/prizes",
                f"/admin/rounds/{first}/print/prizes", "/admin/banks", "/admin/questions", "/admin/questions?type=judge&q=监察",
                f"/admin/questions/{question_id}", "/admin/people", "/admin/people?group=x&q=a", "/admin/slips",
                "/admin/audit", f"/admin/rounds/{first}/leaderboard?group=乡镇", f"/admin/rounds/{first}/units",
                "/admin/units"):
        response = client.get(url)
        assert response.status_code == 200, url
        title = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)
        assert "<" not in title and len(title) < 120, url
    assert client.get("/admin/audit/export").data[:2] == b"PK"


def test_advance_preview_confirm_export_and_undo(app, client, finished):
    first, second = finished
    token = admin(client)
    data = {"csrf_token": token, "per_unit": "1", "top_n": "", "min_score": "", "fill_to": "", "add": "b2 补录", "remove": ""}
    preview = client.post(f"/admin/rounds/{first}/advance", data={**data, "preview": "预览"}).get_data(as_text=True)
    assert "预览：晋级 3 人" in preview and "本单位第 1 名" in preview and "组织者手动增加：补录" in preview
    client.post(f"/admin/rounds/{first}/advance", data={**data, "confirm": "确认晋级"})
    with app.app_context():
        round_ = db.session.get(Round, second)
        assert round_.restricted and {e.user.username for e in round_.entrants} == {"a1", "b1", "b2"}
    sheet = load_workbook(io.BytesIO(client.get(f"/admin/rounds/{second}/export?by=qualified&format=xlsx").data)).active
    assert [r[2] for r in list(sheet.iter_rows(values_only=True))[1:]] == ["a1", "b1", "b2"]
    assert "晋级名单" in client.get(f"/admin/rounds/{second}/print/qualified").get_data(as_text=True)
    bad = client.post(f"/admin/rounds/{first}/advance", data={**data, "add": "b2", "preview": "预览"})
    assert "缺少理由" in bad.get_data(as_text=True)
    client.post(f"/admin/rounds/{second}/advance/undo", data={"csrf_token": token})
    with app.app_context():
        assert not db.session.get(Round, second).restricted


def test_correction_through_the_browser_shows_report(app, client, finished):
    first, _ = finished
    token = admin(client)
    with app.app_context():
        item = db.session.scalars(select(Attempt).join(User).where(User.username == "a1")).one().items[0]
        question_id, key = item.question_id, item.question.answer
    response = client.post(f"/admin/questions/{question_id}/correct",
                           data={"csrf_token": token, "answer": "错误" if key else "正确", "reason": "依据条文更正"})
    assert response.status_code == 302 and "/admin/corrections/" in response.headers["Location"]
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "人员a1" in report and "依据条文更正" in report
    refused = client.post(f"/admin/questions/{question_id}/correct", data={"csrf_token": token, "answer": "也许", "reason": "x"},
                          follow_redirects=True)
    assert "判断题答案请填" in refused.get_data(as_text=True)


def test_interventions_through_the_browser(app, client, finished, clock):
    first, _ = finished
    token = admin(client)
    with app.app_context():
        attempt_id = db.session.scalar(select(Attempt.id).join(User).where(User.username == "a2"))
    response = client.post(f"/admin/attempts/{attempt_id}/invalidate", data={"csrf_token": token, "invalid-reason": "替考"},
                           follow_redirects=True)
    assert "已作废该成绩" in response.get_data(as_text=True)
    no_reason = client.post(f"/admin/attempts/{attempt_id}/extend", data={"csrf_token": token, "minutes": "5", "reason": ""},
                            follow_redirects=True)
    assert "请填写原因" in no_reason.get_data(as_text=True)
    board = client.get(f"/admin/rounds/{first}/leaderboard").get_data(as_text=True)
    assert "已作废" in board


def test_roster_upload_report_then_confirm(app, client, finished, tmp_path):
    token = admin(client)
    book = Workbook()
    for row in (["姓名", "单位", "准考证号"], ["新人一", "丙", "c1"], ["新人二", "甲", "c2"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    rejected = client.post("/admin/people/import", data={"csrf_token": token, "create_units": "0",
                                                         "file": (io.BytesIO(buffer.getvalue()), "名单.xlsx")},
                           content_type="multipart/form-data").get_data(as_text=True)
    assert "名单.xlsx 第 2 行：单位“丙”不存在" in rejected
    report = client.post("/admin/people/import", data={"csrf_token": token, "create_units": "1",
                                                       "file": (io.BytesIO(buffer.getvalue()), "名单.xlsx")},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert "检查通过：2 人" in report and "将新建 1 个单位：丙" in report
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(username="c1")) is None  # nothing written yet
    action = re.search(r'action="(/admin/people/import/[^"]+)"', report).group(1)
    client.post(action, data={"csrf_token": token, "create_units": "1"})
    slips = client.get("/admin/slips").get_data(as_text=True)
    assert "新人一" in slips and "c1" in slips
    with app.app_context():
        from quizapp.services.accounts import unseal_initial, verify_password
        user = db.session.scalar(select(User).filter_by(username="c1"))
        assert verify_password(user, unseal_initial(user.initial_password_enc))
        assert unseal_initial(user.initial_password_enc) in slips


def test_bank_upload_lint_report_then_import(app, client, finished, tmp_path):
    token = admin(client)
    broken = SAMPLE_BANK.read_text("utf-8").replace("id: test-sample", "id: upload").replace("t-00", "u-00")
    bad = broken.replace("article: 7,", "article: 8,")
    page = client.post("/admin/banks/upload", data={"csrf_token": token, "file": (io.BytesIO(bad.encode()), "新题库.yaml")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "未导入" in page and "新题库.yaml:" in page and "[u-0001]" in page
    ok = client.post("/admin/banks/upload", data={"csrf_token": token, "file": (io.BytesIO(broken.encode()), "新题库.yaml")},
                     content_type="multipart/form-data").get_data(as_text=True)
    assert "检查通过" in ok and "新增 12 道" in ok
    # Nothing was written by the upload; confirming imports it.
    action = re.search(r'action="(/admin/banks/import/[^"]+)"', ok).group(1)
    result = client.post(action, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "已导入：新增 12" in result


def test_disable_question_and_publish(app, client, finished):
    first, _ = finished
    token = admin(client)
    with app.app_context():
        question_id = db.session.scalar(select(Question.id))
    client.post(f"/admin/questions/{question_id}/disable", data={"csrf_token": token})
    client.post(f"/admin/rounds/{first}/publish", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Question, question_id).disabled
        assert db.session.get(Round, first).published_at is not None
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
        assert "question.disable" in actions and "round.publish" in actions


def test_liaison_sees_only_their_unit(app, client, finished, build):
    first, _ = finished
    with app.app_context():
        from quizapp.models import Unit
        from quizapp.services.people import create_liaison
        unit = db.session.scalar(select(Unit).filter_by(name="甲"))
        password = create_liaison(unit, "lia", "甲联络员")
        other = db.session.scalar(select(User.id).filter_by(username="b1"))
        mine = db.session.scalar(select(User.id).filter_by(username="a1"))
    login(client, "lia", password)
    home = client.get("/unit/").get_data(as_text=True)
    assert "人员a1" in home and "人员b1" not in home
    page = client.get(f"/unit/rounds/{first}").get_data(as_text=True)
    assert "人员a1" in page and "人员b1" not in page
    assert client.get(f"/unit/people/{mine}").status_code == 200
    assert client.get(f"/unit/people/{other}").status_code == 404
    assert client.get("/admin/").status_code == 403
    assert client.get("/lobby").status_code == 403


def test_unit_groups_filter_the_lists(app, client, finished):
    first, _ = finished
    token = admin(client)
    with app.app_context():
        from quizapp.models import Unit
        unit_id = db.session.scalar(select(Unit.id).filter_by(name="乙"))
    client.post("/admin/units", data={"csrf_token": token, "unit_id": unit_id, "group": "乡镇"})
    board = client.get(f"/admin/rounds/{first}/leaderboard?group=乡镇").get_data(as_text=True)
    assert "人员b1" in board and "人员a1" not in board
    units = client.get(f"/admin/rounds/{first}/units?group=乡镇").get_data(as_text=True)
    assert "<td>乙</td>" in units and "<td>甲</td>" not in units
    progress = client.get(f"/admin/rounds/{first}?group=乡镇").get_data(as_text=True)
    assert "<td>乙</td>" in progress and "<td>甲</td>" not in progress
    people = client.get("/admin/people?group=乡镇").get_data(as_text=True)
    assert "人员b2" in people and "人员a2" not in people
