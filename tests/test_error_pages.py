"""Error pages render in Chinese without the database (issue 9 item 9).

During a PostgreSQL restart every page became gunicorn's bare 「Internal Server Error」: the
error page loaded the signed-in user from the database and failed again. Here one app instance
gets a database that cannot be reached, and a session cookie of a user signed in on a working
one; its pages must answer the app's own Chinese page (503 for the database), its API paths JSON.
"""
from __future__ import annotations

import pytest

from quizapp import create_app

from .conftest import csrf_from, login

DOWN_URLS = {
    "sqlite": "sqlite:///{tmp}/removed-directory/quizapp.db",  # a directory that does not exist
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/quizapp?connect_timeout=2",  # a closed port
}


def _signed_in_cookie(app, client, build, username, admin=False):
    (build.admin if admin else build.participant)(username)
    assert login(client, username).status_code == 302
    return client.get_cookie("session").value


@pytest.fixture(params=sorted(DOWN_URLS))
def down(request, app, build, tmp_path):
    """(app whose database is unreachable, participant cookie, organizer cookie, csrf token)."""
    participant, organizer = app.test_client(), app.test_client()
    cookies = (_signed_in_cookie(app, participant, build, "p1"),
               _signed_in_cookie(app, organizer, build, "admin", admin=True))
    csrf = csrf_from(participant.get("/lobby").get_data(as_text=True))
    cookies = (participant.get_cookie("session").value, cookies[1])
    broken = create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": DOWN_URLS[request.param].format(tmp=tmp_path),
    })

    @broken.route("/test-boom")
    def boom():
        raise RuntimeError("a bug, not the database")

    return broken, cookies, csrf


def _client(app, cookie):
    client = app.test_client()
    if cookie:
        client.set_cookie("session", cookie)
    return client


def _assert_chinese_page(response, status, text):
    html = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, html[:300])
    assert response.mimetype == "text/html"
    assert text in html and '<html lang="zh-CN">' in html
    assert "Traceback" not in html and "Internal Server Error" not in html


@pytest.mark.parametrize("path", ["/lobby", "/attempts/1", "/attempts/1/result", "/"])
def test_participant_pages_say_the_database_is_down(down, path):
    app, (participant, _), _ = down
    _assert_chinese_page(_client(app, participant).get(path), 503, "数据库暂时无法连接，请稍后刷新")


@pytest.mark.parametrize("path", ["/admin/", "/admin/people", "/admin/rounds/1", "/unit/"])
def test_organizer_pages_say_the_database_is_down(down, path):
    app, (_, organizer), _ = down
    _assert_chinese_page(_client(app, organizer).get(path), 503, "数据库暂时无法连接，请稍后刷新")


def test_api_paths_answer_json(down):
    app, (participant, _), csrf = down
    client = _client(app, participant)
    answers = [
        client.get("/attempts/1/clock"),
        client.post("/attempts/1/answers", json={"position": 1, "response": "A"}, headers={"X-CSRFToken": csrf}),
        client.get("/lobby", headers={"Accept": "application/json"}),
        client.get("/no-such-page", headers={"Accept": "application/json"}),
    ]
    for response in answers:
        assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
        assert response.get_json()["ok"] is False and response.get_json()["error"]
    assert [r.status_code for r in answers] == [503, 503, 503, 404]
    assert answers[0].get_json()["error"] == "数据库暂时无法连接，请稍后刷新"


def test_other_error_pages_need_no_database(down):
    """404, 403, 405 and a bug's 500 for a signed-in user while the database is down: the page
    of each, in Chinese, without loading the user."""
    app, (participant, _), _ = down
    client = _client(app, participant)
    _assert_chinese_page(client.get("/no-such-page"), 404, "页面不存在")
    _assert_chinese_page(client.get("/admin/rounds/2147483648"), 404, "页面不存在")
    _assert_chinese_page(client.get("/logout"), 405, "请求方法不允许")
    _assert_chinese_page(client.post("/logout"), 400, "安全令牌")  # no CSRF token
    _assert_chinese_page(client.get("/lobby?q=%00"), 400, "请求中含有无效字符")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 page, not the exception
    _assert_chinese_page(client.get("/test-boom"), 500, "服务器内部错误")


def test_login_page_without_the_database_is_not_a_traceback(down):
    app, _, _ = down
    client = _client(app, None)
    response = client.get("/login")
    assert response.status_code in (200, 503)
    page = client.post("/login", data={"username": "p1", "password": "x", "csrf_token": "bad"})
    _assert_chinese_page(page, 400, "安全令牌")
