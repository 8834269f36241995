"""Sign-in and sessions as an attacker would try them: throttling, revocation, CSRF rotation,
redirect targets, Secure cookies, disabled people on the fast paths, liaisons and release."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem, Round, User
from quizapp.services import people as people_service

from .conftest import PASSWORD, csrf_from, login
from .test_participant_routes import save, start


@pytest.fixture
def round_id(app, build, clock):
    build.bank()
    build.participant("p1", name="参赛甲")
    build.participant("p2", name="参赛乙")
    return build.round()


def second_client(app, username):
    other = app.test_client()
    assert login(other, username).status_code == 302
    return other


def test_signing_out_ends_the_persons_sessions_on_every_device(app, client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    phone = second_client(app, "p1")
    phone_token = csrf_from(phone.get("/lobby").get_data(as_text=True))
    assert phone.post("/logout", data={"csrf_token": phone_token}).status_code == 302
    # The first device's cookie is still signed and unexpired, but its session has ended.
    assert client.get("/lobby").status_code == 302
    refused = save(client, attempt_id, token, 1, "A")
    assert refused.status_code == 401 and refused.get_json()["signed_out"] is True
    with app.app_context():
        assert db.session.scalar(select(AttemptItem.response).filter_by(attempt_id=attempt_id, position=1)) is None


@pytest.mark.parametrize("action", ["disable", "reset"])
def test_disabling_or_resetting_ends_sessions_and_fast_paths_refuse(app, client, round_id, action):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "A").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="p1"))
        if action == "disable":
            people_service.set_active(user, False, "测试停用")
        else:
            people_service.reset_password(user)
    refused = save(client, attempt_id, token, 2, "A")
    assert refused.status_code == 401
    submit = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert submit.status_code == 302 and "/login" in submit.headers["Location"]
    assert client.get(f"/attempts/{attempt_id}/clock", headers={"Accept": "application/json"}).status_code == 401
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).status == "in_progress"
        assert db.session.scalar(select(AttemptItem.response).filter_by(attempt_id=attempt_id, position=2)) is None
    if action == "disable":
        assert login(client, "p1").status_code == 200  # a disabled person cannot sign in again


def test_sign_in_starts_a_fresh_session_with_a_new_csrf_token(client, round_id):
    before = csrf_from(client.get("/login").get_data(as_text=True))
    assert login(client, "p1").status_code == 302
    after = csrf_from(client.get("/lobby").get_data(as_text=True))
    assert before != after
    # The token from before sign-in no longer works for a signed-in action.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400


@pytest.mark.parametrize("target", ["//evil.example/x", "/%09/evil.example/", "/\t/evil.example/", "/\\evil.example",
                                    "https://evil.example/", "/\r\n/evil.example", "javascript:alert(1)"])
def test_next_accepts_only_same_site_paths(client, round_id, target):
    page = client.get("/login").get_data(as_text=True)
    from urllib.parse import quote

    response = client.post("/login?next=" + quote(target, safe="/%"),
                           data={"username": "p1", "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/lobby"


def test_next_keeps_a_same_site_path(client, round_id):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login?next=/lobby%3Fx%3D1", data={"username": "p1", "password": PASSWORD,
                                                              "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/lobby?x=1"


def test_failed_sign_ins_are_throttled_per_account_and_address(app, client, round_id):
    for _ in range(5):
        assert login(client, "p1", "wrong").status_code == 200
    throttled = login(client, "p1", "wrong")
    assert throttled.status_code == 429
    body = throttled.get_data(as_text=True)
    assert "登录失败次数过多" in body and "后再试" in body and int(throttled.headers["Retry-After"]) > 0
    # Even the right password waits now, from this address …
    assert login(client, "p1").status_code == 429
    # … but another account from the same address, and the same account from another address,
    # still sign in: an attacker cannot lock a participant out of their own phone.
    assert login(client, "p2").status_code == 302
    elsewhere = app.test_client()
    page = elsewhere.get("/login", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    response = elsewhere.post("/login", data={"username": "p1", "password": PASSWORD,
                                              "csrf_token": csrf_from(page.get_data(as_text=True))},
                              environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 302


def test_successful_sign_ins_are_not_counted(client, round_id):
    for _ in range(8):
        assert login(client, "p1").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/lobby").get_data(as_text=True))})


def test_an_address_trying_many_accounts_is_throttled(app, client, round_id):
    app.config["LOGIN_LIMIT_ADDRESS"] = "3 per minute"
    try:
        for name in ("x1", "x2", "x3"):
            assert login(client, name, "wrong").status_code == 200
        assert login(client, "x4", "wrong").status_code == 429
    finally:
        app.config["LOGIN_LIMIT_ADDRESS"] = "100 per 10 minutes"


def test_session_cookie_is_secure_over_https_only(client, round_id):
    page = client.get("/login", base_url="https://quiz.example")
    # Over HTTPS Flask-WTF also checks the Referer (browsers send it: Referrer-Policy same-origin).
    response = client.post("/login", base_url="https://quiz.example", headers={"Referer": "https://quiz.example/login"},
                           data={"username": "p1", "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    plain = login(client, "p2")
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_malformed_saves_are_400_not_500(client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    for position, response in ((1, [["A"]]), (1, [{"a": 1}]), (1, {"A": True}), (2**31, "A"), (10**20, "A"),
                               (-1, "A"), (True, "A"), (1, [None])):
        reply = save(client, attempt_id, token, position, response)
        assert reply.status_code == 400, (position, response)
        assert reply.get_json()["ok"] is False
    big = client.post(f"/attempts/{attempt_id}/answers", data="x" * 100_000,
                      headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert big.status_code == 413


def test_liaison_sees_scores_on_the_participants_release_rule(app, client, build, clock):
    from quizapp.services.rounds import close_round, publish

    build.bank()
    unit = build.unit("县纪委监委机关")
    build.participant("p1", name="参赛甲")
    round_id = build.round()
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "A").status_code == 200
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    with app.app_context():
        score = db.session.get(Attempt, attempt_id).score
        db.session.add(User(username="lia", name="联络员", role="liaison", unit_id=unit,
                            password_hash=db.session.scalar(select(User.password_hash).filter_by(username="p1"))))
        db.session.commit()
        close_round(db.session.get(Round, round_id))
    liaison = app.test_client()
    assert login(liaison, "lia").status_code == 302
    user_id = _user_id(app, "p1")
    pages = (f"/unit/rounds/{round_id}", f"/unit/people/{user_id}")
    for url in pages:
        body = liaison.get(url).get_data(as_text=True)
        assert "成绩公布后可见" in body, url
        assert f"{score:g} / " not in body and "全县排名</th>" not in body, url
    with app.app_context():
        publish(db.session.get(Round, round_id))
    body = liaison.get(pages[0]).get_data(as_text=True)
    assert "全县排名" in body and re.search(rf">{score:g}<", body)
    assert f"{score:g} / 10 分" in liaison.get(pages[1]).get_data(as_text=True)


def _user_id(app, username):
    with app.app_context():
        return db.session.scalar(select(User.id).filter_by(username=username))


@pytest.mark.skipif(not os.environ.get("QUIZAPP_TEST_REDIS_URL"),
                    reason="QUIZAPP_TEST_REDIS_URL not set (.ci/run sets it)")
def test_throttling_counts_are_shared_between_processes_through_redis(app, build, clock):
    """Two worker processes with Redis storage see each other's failures: five failures in one
    process make the sixth, in another process, a 429."""
    import subprocess
    import sys

    import redis

    build.participant("p1")
    url = os.environ["QUIZAPP_TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    env = {**os.environ, "QUIZAPP_REDIS_URL": url, "QUIZAPP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "QUIZAPP_SECRET_KEY": app.config["SECRET_KEY"]}

    def worker(attempts: int) -> list[int]:
        out = subprocess.run([sys.executable, "-m", "tests.login_worker", "p1", "wrong", str(attempts)], env=env,
                             capture_output=True, text=True, timeout=120, check=True).stdout
        return [int(code) for code in out.split()]

    assert worker(5) == [200] * 5
    assert worker(1) == [429]
    redis.Redis.from_url(url).flushdb()
