"""The participant's pages and API through the test client, including every refusal."""
import json
import re

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem, Question

from .conftest import csrf_from, login


@pytest.fixture
def round_id(app, build, clock):
    build.bank()
    build.participant("p1", name="参赛甲")
    build.participant("p2", name="参赛乙")
    return build.round()


def start(client, round_id) -> tuple[int, str]:
    lobby = client.get("/lobby").get_data(as_text=True)
    response = client.post(f"/rounds/{round_id}/start", data={"csrf_token": csrf_from(lobby)})
    if response.status_code == 303:  # an attempt already started: its page, by GET
        attempt_id = int(re.search(r"/attempts/(\d+)$", response.headers["Location"]).group(1))
        page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    else:  # started now: the quiz page itself
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        attempt_id = int(re.search(r'data-page-url="/attempts/(\d+)"', page).group(1))
    return attempt_id, csrf_from(page)


def paper(html: str) -> dict[int, dict]:
    """The quiz page's JSON paper (what quiz.js turns into the questions), by position."""
    text = re.search(r'<script type="application/json" id="paper">(.*?)</script>', html, re.S).group(1)
    return {item["position"]: item for item in json.loads(text)}


def save(client, attempt_id, token, position, response, flagged=False, headers=None):
    return client.post(f"/attempts/{attempt_id}/answers", json={"position": position, "response": response, "flagged": flagged},
                       headers={"X-CSRFToken": token} if headers is None else headers)


def test_login_lobby_and_logout(client, round_id):
    assert client.get("/lobby").status_code == 302
    assert login(client, "p1", "wrong").status_code == 200
    response = login(client, "p1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/lobby")
    lobby = client.get("/lobby").get_data(as_text=True)
    assert "开始答题" in lobby and "30 分钟" in lobby and "参赛甲" in lobby
    assert client.post("/logout", data={"csrf_token": csrf_from(lobby)}).status_code == 302
    assert client.get("/lobby").status_code == 302


def test_login_refuses_offsite_next(client, round_id):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login?next=//evil.example/x", data={"username": "p1", "password": "pw-123456",
                                                                 "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/lobby"


def test_quiz_page_reveals_no_key(app, client, round_id):
    login(client, "p1")
    attempt_id, _ = start(client, round_id)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        for item in attempt.items:
            q = item.question
            assert q.explanation not in html and q.qid not in html
            shown_text = q.stem + "".join(text for _, text in q.options)
            if q.source_basis not in shown_text:  # a true 判断 statement may quote its basis
                assert q.source_basis not in html
            # An option is shown with its display letter, never with its bank letter when they differ.
            shown = [[chr(ord("A") + item.option_order.index(key)), text] for key, text in q.options]
            assert sorted(paper(html)[item.position]["options"]) == sorted(shown)
    # The page's data is position, type, texts, display letters and the person's own answers.
    items = paper(html).values()
    assert {key for item in items for key in item} == {"position", "type", "label", "stem_parts", "options",
                                                       "response", "flagged"}
    letters = {letter for item in items for letter, _ in item["options"]}
    assert letters and letters <= set("ABCDEFGH")


def test_save_resume_and_submit(app, client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "B", flagged=True).get_json()["ok"] is True
    quiz = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    blanks = len(paper(quiz)[7]["stem_parts"]) - 1
    reply = save(client, attempt_id, token, 7, ["  专责 机关。"] * blanks).get_json()
    assert reply["ok"] and 0 < reply["remaining"] <= 1800
    # A reload (or another device) shows the saved answer and the flag.
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert paper(html)[1]["response"] == "B" and paper(html)[1]["flagged"] is True
    assert paper(html)[7]["response"] == ["专责 机关。"] * blanks and paper(html)[2]["response"] is None
    clock_reply = client.get(f"/attempts/{attempt_id}/clock").get_json()
    assert clock_reply == {"ok": True, "finished": False, "remaining": 1800, "taken_over": False}
    response = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert response.status_code == 302
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "已交卷" in result and "得分" in result and "正确答案：" not in result
    assert save(client, attempt_id, token, 2, "A").status_code == 409


def test_answers_released_only_after_the_round_closes_and_is_published(app, client, round_id, clock):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    with app.app_context():
        basis = db.session.get(Attempt, attempt_id).items[0].question.source_basis
    assert basis not in client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    clock.advance(hours=3)
    assert basis not in client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)  # over, not published
    from quizapp.services.rounds import close_round, publish
    with app.app_context():
        round_ = db.session.get(Attempt, attempt_id).round
        close_round(round_)
        publish(round_)
    released = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "正确答案：" in released and basis in released and "解析" in released


def test_score_hidden_until_close_when_configured(app, build, client, clock):
    build.bank()
    build.participant("p1")
    round_id = build.round(show_score="after_close")
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert "成绩公布后可见" in client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)


def test_deadline_refuses_answers_and_finalizes(client, round_id, clock):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "A").status_code == 200
    clock.advance(minutes=30, seconds=1)
    reply = save(client, attempt_id, token, 2, "A")
    assert reply.status_code == 409 and reply.get_json()["finished"] is True
    assert client.get(f"/attempts/{attempt_id}").status_code == 302


def test_other_participants_attempt_is_404_everywhere(client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    client.post("/logout", data={"csrf_token": token})
    login(client, "p2")
    page = client.get("/lobby").get_data(as_text=True)
    other_token = csrf_from(page)
    assert client.get(f"/attempts/{attempt_id}").status_code == 404
    assert client.get(f"/attempts/{attempt_id}/result").status_code == 404
    assert client.get(f"/attempts/{attempt_id}/clock").status_code == 404
    assert save(client, attempt_id, other_token, 1, "A").status_code == 404
    assert client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": other_token}).status_code == 404
    assert client.get("/attempts/999999").status_code == 404


def test_saving_and_submitting_need_a_signed_in_participant(app, client, round_id, build):
    """The save and submit routes check the signed session inside their own queries; the
    refusals are the same as on every participant route, and nothing is written."""
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    client.post("/logout", data={"csrf_token": token})
    signed_out_token = csrf_from(client.get("/login").get_data(as_text=True))
    signed_out = save(client, attempt_id, signed_out_token, 1, "A")
    # An API answers with a status and JSON: a redirect would be followed by fetch and read as saved.
    assert signed_out.status_code == 401 and signed_out.get_json()["ok"] is False
    assert signed_out.get_json()["signed_out"] is True
    signed_out = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": signed_out_token})
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    build.admin("boss")
    login(client, "boss")
    admin_token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert save(client, attempt_id, admin_token, 1, "A").status_code == 403
    assert client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": admin_token}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(AttemptItem.response).filter_by(attempt_id=attempt_id, position=1)) is None
        assert db.session.get(Attempt, attempt_id).status == "in_progress"


def test_missing_or_wrong_csrf_is_refused(client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "A", headers={}).status_code == 400
    assert save(client, attempt_id, token, 1, "A", headers={"X-CSRFToken": "forged"}).status_code == 400
    assert client.post(f"/attempts/{attempt_id}/submit").status_code == 400
    assert client.post(f"/rounds/{round_id}/start").status_code == 400


def test_malformed_answers_are_400(client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 99, "A").status_code == 400
    assert save(client, attempt_id, token, "1", "A").status_code == 400
    assert save(client, attempt_id, token, 1, ["A", "B", "Z"]).status_code == 400


def test_participant_cannot_reach_organizer_pages(client, round_id):
    login(client, "p1")
    for url in ("/admin/", f"/admin/rounds/{round_id}", f"/admin/rounds/{round_id}/leaderboard",
                f"/admin/rounds/{round_id}/export?by=unit&format=xlsx", "/admin/banks"):
        assert client.get(url).status_code == 403, url


def test_bank_text_is_escaped(app, client, round_id):
    with app.app_context():
        for question in db.session.scalars(select(Question)):
            question.stem = "<script>alert(1)</script>" + question.stem
            question.options = [[k, f"<b>{t}</b>"] for k, t in question.options]
        db.session.commit()
    login(client, "p1")
    attempt_id, _ = start(client, round_id)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    # Inside the page's JSON no bank text can close the script element; quiz.js shows it as text.
    assert "<script>alert(1)" not in html and "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in html
    assert "<b>" not in html and "\\u003cb\\u003e" in html
    assert any(item["stem_parts"][0].startswith("<script>alert(1)</script>") for item in paper(html).values())


def test_second_device_takes_over_and_first_is_told(app, client, round_id):
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "A").status_code == 200
    other = app.test_client()
    login(other, "p1")
    other_token = csrf_from(other.get(f"/attempts/{attempt_id}").get_data(as_text=True))
    refused = save(client, attempt_id, token, 1, "B")
    assert refused.status_code == 409 and refused.get_json()["taken_over"] is True
    assert client.get(f"/attempts/{attempt_id}/clock").get_json()["taken_over"] is True
    assert save(other, attempt_id, other_token, 1, "B").status_code == 200
    with app.app_context():
        kinds = [e.kind for e in db.session.get(Attempt, attempt_id).events]
    assert kinds == ["start", "takeover"]


def test_start_answers_with_the_quiz_page_and_a_second_start_goes_to_it(app, client, round_id):
    """开始 answers with the page itself (no redirect and second request at 9:00): exactly the
    prepared paper, this browser its device, a start event, no key in the page; pressing
    开始 again (Back to a stale lobby) is a 303 to the attempt's page, which resumes it."""
    from quizapp.models import AttemptEvent, PreparedPaper

    login(client, "p1")
    lobby = client.get("/lobby").get_data(as_text=True)
    response = client.post(f"/rounds/{round_id}/start", data={"csrf_token": csrf_from(lobby)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    attempt_id = int(re.search(r'data-page-url="/attempts/(\d+)"', html).group(1))
    shown = paper(html)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        prepared = db.session.scalar(select(PreparedPaper).filter_by(round_id=round_id, user_id=attempt.user_id))
        assert [[i.question_id, i.option_order] for i in attempt.items] == prepared.items
        assert attempt.max_score == prepared.max_score and attempt.status == "in_progress"
        assert [e.kind for e in db.session.scalars(select(AttemptEvent).filter_by(attempt_id=attempt_id))] == ["start"]
        for item in attempt.items:
            q = item.question
            assert q.explanation not in html and q.qid not in html
            assert shown[item.position]["type"] == q.type and shown[item.position]["response"] is None
            letters = [chr(ord("A") + item.option_order.index(key)) for key, _ in q.options]
            assert sorted(shown[item.position]["options"]) == sorted([[l, t] for l, (_, t) in zip(letters, q.options)])
    token = csrf_from(html)
    assert save(client, attempt_id, token, 1, "A").status_code == 200  # this browser is the device
    again = client.post(f"/rounds/{round_id}/start", data={"csrf_token": csrf_from(lobby)})
    assert again.status_code == 303 and again.headers["Location"] == f"/attempts/{attempt_id}"
    assert paper(client.get(again.headers["Location"]).get_data(as_text=True))[1]["response"] == "A"
    with app.app_context():
        assert [e.kind for e in db.session.get(Attempt, attempt_id).events] == ["start", "resume"]
        assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 1
