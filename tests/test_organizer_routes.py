"""The organizer's pages through the test client: rounds, progress, leaderboards, exports."""
import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from quizapp.extensions import db
from quizapp.models import Round
from quizapp.services.attempts import save_response, start_attempt, submit_attempt

from .conftest import START, csrf_from, login


@pytest.fixture
def finished_round(app, build, clock):
    """A round where p1 scored more than p2 (same unit), p3 of another unit did not take part,
    and 县委办公室 has nobody registered who took part."""
    build.bank()
    build.admin()
    for username, unit in (("p1", "县纪委监委机关"), ("p2", "县纪委监委机关"), ("p3", "县委办公室")):
        build.participant(username, unit=unit, name=f"人员{username}")
    round_id = build.round()
    from sqlalchemy import select

    from quizapp.models import User
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        for username, right in (("p1", True), ("p2", False)):
            attempt = start_attempt(round_, db.session.scalar(select(User).filter_by(username=username)))
            item = attempt.items[0]
            letter = chr(ord("A") + item.option_order.index(item.question.answer))
            save_response(attempt, 1, letter if right else ("A" if letter != "A" else "B"), False)
            clock.advance(minutes=1)
            submit_attempt(attempt)
    return round_id


def admin_client(client):
    login(client, "admin")
    return client


def test_index_and_round_pages(client, finished_round):
    admin_client(client)
    index = client.get("/admin/").get_data(as_text=True)
    assert "测试竞赛" in index and "进行中" in index and "12 道可用题目" in index
    detail = client.get(f"/admin/rounds/{finished_round}").get_data(as_text=True)
    assert "报名 3 人：未开始 1，答题中 0，已交卷 2。" in re.sub(r"<[^>]+>", "", detail)
    # The figures refresh themselves (round.js); the page is never reloaded under someone typing.
    assert 'http-equiv="refresh"' not in detail and "round.js" in detail


def test_leaderboards_in_the_browser(client, finished_round):
    admin_client(client)
    board = client.get(f"/admin/rounds/{finished_round}/leaderboard").get_data(as_text=True)
    assert board.index("人员p1") < board.index("人员p2")
    units = client.get(f"/admin/rounds/{finished_round}/units").get_data(as_text=True)
    assert units.index("县纪委监委机关") < units.index("县委办公室") and "无人参赛" in units and "100.0%" in units and "0.0%" in units


def test_xlsx_and_csv_exports(client, finished_round):
    admin_client(client)
    response = client.get(f"/admin/rounds/{finished_round}/export?by=participant&format=xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("排名", "姓名", "准考证号", "单位", "得分")
    assert [r[1] for r in rows[1:]] == ["人员p1", "人员p2"] and [r[0] for r in rows[1:]] == [1, 2]
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["D"].width == 30
    units = client.get(f"/admin/rounds/{finished_round}/export?by=unit&format=csv")
    assert units.data.startswith("\ufeff".encode("utf-8"))
    table = list(csv.reader(io.StringIO(units.data.decode("utf-8-sig"))))
    assert table[0][:2] == ["排名", "单位"] and table[1][1] == "县纪委监委机关" and table[2][:2] == ["—", "县委办公室"]
    assert client.get(f"/admin/rounds/{finished_round}/export?by=x&format=xlsx").status_code == 400


def test_create_open_and_close_a_round_through_forms(app, client, build, clock):
    build.bank()
    build.admin()
    build.participant("p1")
    from quizapp.models import Competition
    with app.app_context():
        db.session.add(Competition(name="表单竞赛"))
        db.session.commit()
        competition_id = db.session.scalar(db.select(Competition.id))
    admin_client(client)
    form_page = client.get(f"/admin/competitions/{competition_id}/rounds/new").get_data(as_text=True)
    local_start = START + timedelta(hours=8)
    data = {
        "csrf_token": csrf_from(form_page), "stage": "初赛", "name": "表单初赛",
        "opens_at": local_start.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (local_start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "time_limit_minutes": "20", "doc": "jianchafa-2024", "difficulty": "",
        "count_single": "3", "count_multiple": "1", "count_judge": "2", "count_fill": "0",
        "points_single": "1", "points_multiple": "2", "points_judge": "1", "points_fill": "2",
        "multiple_rule": "partial", "draw_mode": "fixed", "show_score": "on_submit", "unit_method": "mean", "unit_k": "",
    }
    response = client.post(f"/admin/competitions/{competition_id}/rounds/new", data=data)
    assert response.status_code == 302
    round_id = int(re.search(r"/rounds/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.opens_at == START and round_.status == "draft" and round_.draw_mode == "fixed"
        assert round_.rules[0] == {"type": "single", "count": 3, "doc": "jianchafa-2024"}
    token = csrf_from(client.get(f"/admin/rounds/{round_id}").get_data(as_text=True))
    assert client.post(f"/admin/rounds/{round_id}/open").status_code == 400  # no CSRF token
    client.post(f"/admin/rounds/{round_id}/open", data={"csrf_token": token})
    client.post(f"/admin/rounds/{round_id}/close", data={"csrf_token": token})  # early, not confirmed
    with app.app_context():
        assert db.session.get(Round, round_id).status == "open"
    client.post(f"/admin/rounds/{round_id}/close", data={"csrf_token": token, "confirm": "1"})
    with app.app_context():
        assert db.session.get(Round, round_id).status == "closed"


def test_round_with_too_few_questions_cannot_open(app, client, build, clock):
    build.bank()
    build.admin()
    round_id = build.round(open_=False, sections=[{"type": "fill", "count": 5}])
    admin_client(client)
    detail = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert 'class="short"' in detail
    response = client.post(f"/admin/rounds/{round_id}/open", data={"csrf_token": csrf_from(detail)}, follow_redirects=True)
    assert "题库不足，不能开放" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, round_id).status == "draft"


def test_invalid_round_form_shows_errors(app, client, build, clock):
    build.admin()
    from quizapp.models import Competition
    with app.app_context():
        competition = Competition(name="竞赛")
        db.session.add(competition)
        db.session.commit()
        url = f"/admin/competitions/{competition.id}/rounds/new"
    admin_client(client)
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_from(html), "name": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "请填写轮次名称" in body and "请填写开始时间" in body
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Round)) == 0


def test_unauthenticated_organizer_pages_redirect_to_login(client, finished_round):
    response = client.get(f"/admin/rounds/{finished_round}/leaderboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_leaderboard_pages(app, client, finished_round):
    admin_client(client)
    app.config["LEADERBOARD_PAGE_SIZE"] = 1
    try:
        first = client.get(f"/admin/rounds/{finished_round}/leaderboard").get_data(as_text=True)
        assert "人员p1" in first and "人员p2" not in first and "page=2" in first and "第 1 / 2 页" in first
        second = client.get(f"/admin/rounds/{finished_round}/leaderboard?page=2").get_data(as_text=True)
        assert "人员p2" in second and "人员p1" not in second
    finally:
        app.config["LEADERBOARD_PAGE_SIZE"] = 100
