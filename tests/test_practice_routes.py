"""练习 routes: starting sets, the answer only after submission, feedback, the 错题本 through
the Leitner rule, JSON refusals, and each person's sets being their own."""
from __future__ import annotations

import json
import re

import pytest

from quizapp.extensions import db

from .conftest import csrf_from, login

ITEMS = re.compile(r'<script type="application/json" id="practice-items">(.*?)</script>', re.S)


@pytest.fixture
def people(build, clock):
    build.bank()
    return {"a": build.participant("20260001", name="王小明"),
            "b": build.participant("20260002", name="李小红", unit="县委办公室")}


def start(client, **fields) -> tuple[int, str]:
    page = client.get("/practice/")
    assert page.status_code == 200
    reply = client.post("/practice/start", data={"csrf_token": csrf_from(page.get_data(as_text=True)), **fields})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    match = re.search(r"/practice/sessions/(\d+)$", reply.headers["Location"])
    assert match, reply.headers["Location"]
    session_id = int(match.group(1))
    html = client.get(f"/practice/sessions/{session_id}").get_data(as_text=True)
    return session_id, html


def items_of(html: str) -> list[dict]:
    return json.loads(ITEMS.search(html).group(1))


def key_for(app, session_id: int, position: int, right: bool = True):
    """A response in display letters: the key, or a wrong answer."""
    from quizapp.models.practice import PracticeItem
    from quizapp.services.attempts import to_display_response

    with app.app_context():
        item = db.session.scalar(db.select(PracticeItem).filter_by(session_id=session_id, position=position))
        q = item.question
        key = to_display_response(q.type, item.option_order, q.answer)
        if q.type == "fill":
            return [v[0] for v in q.answer] if right else ["不知道"] * len(q.answer)
        if q.type == "judge":
            return key if right else (not key)
        if q.type == "single":
            return key if right else next(c for c in "ABCD" if c != key)
        return key if right else [c for c in "ABCD" if c not in key][:1]


def post_answer(client, session_id, position, response, csrf):
    return client.post(f"/practice/sessions/{session_id}/answers", json={"position": position, "response": response},
                       headers={"X-CSRFToken": csrf})


def test_the_answer_reaches_the_page_only_after_its_submission(app, client, people):
    login(client, "20260001")
    session_id, html = start(client, kind="chapter", document="监察法", topic="监察机关及其职责", count="10")
    items = items_of(html)
    assert items and all("feedback" not in i for i in items)
    with app.app_context():
        from quizapp.models import Question
        explanations = [q.explanation for q in db.session.scalars(db.select(Question))]
    assert not any(e in html for e in explanations)
    csrf = csrf_from(html)
    reply = post_answer(client, session_id, 1, key_for(app, session_id, 1), csrf)
    assert reply.status_code == 200 and reply.json["correct"] is True
    assert reply.json["explanation"] in explanations and reply.json["answer"]
    assert reply.json["citation"].startswith("《中华人民共和国监察法》（2024年修正）第")
    assert reply.json["text"]  # the article's text from the official sources
    html = client.get(f"/practice/sessions/{session_id}").get_data(as_text=True)
    after = items_of(html)
    assert "feedback" in after[0] and all("feedback" not in i for i in after[1:])
    assert sum(e in html for e in explanations) == 1


def test_an_item_is_answered_once(app, client, people):
    login(client, "20260001")
    session_id, html = start(client, kind="chapter", document="监察法", count="10")
    csrf = csrf_from(html)
    wrong = key_for(app, session_id, 1, right=False)
    first = post_answer(client, session_id, 1, wrong, csrf).json
    again = post_answer(client, session_id, 1, key_for(app, session_id, 1), csrf).json
    assert first["correct"] is False and again["correct"] is False and again["given"] == first["given"]


def test_bad_requests_get_json_refusals(app, client, people):
    login(client, "20260001")
    session_id, html = start(client, kind="chapter", document="监察法", count="10")
    csrf = csrf_from(html)
    assert post_answer(client, session_id, 1, None, csrf).status_code == 400  # blank
    assert post_answer(client, session_id, 1, "Z", csrf).status_code == 400  # not an option
    assert post_answer(client, session_id, 99, "A", csrf).status_code == 404
    assert client.post(f"/practice/sessions/{session_id}/answers", json={"position": 1, "response": "A"}).status_code == 400
    client.post("/logout", data={"csrf_token": csrf})
    reply = post_answer(client, session_id, 1, "A", csrf)
    assert reply.status_code in (400, 401) and reply.is_json and "Location" not in reply.headers


def test_signed_out_answer_is_json_401_never_a_redirect(app, client, people):
    login(client, "20260001")
    session_id, html = start(client, kind="chapter", document="监察法", count="10")
    csrf = csrf_from(html)
    with client.session_transaction() as s:
        s.pop("_user_id", None)
    reply = post_answer(client, session_id, 1, "A", csrf)
    assert reply.status_code == 401 and reply.json["signed_out"] is True


def test_another_persons_set_is_404(app, client, people):
    login(client, "20260001")
    session_id, html = start(client, kind="chapter", document="监察法", count="10")
    other = app.test_client()
    login(other, "20260002")
    page = other.get("/practice/").get_data(as_text=True)
    assert other.get(f"/practice/sessions/{session_id}").status_code == 404
    reply = post_answer(other, session_id, 1, key_for(app, session_id, 1), csrf_from(page))
    assert reply.status_code == 404 and reply.is_json


def test_a_wrong_answer_stays_in_the_book_until_right_in_two_later_sets(app, client, people):
    login(client, "20260001")
    session_id, html = start(client, kind="chapter", document="监察法", topic="总则", count="10")
    csrf = csrf_from(html)
    reply = post_answer(client, session_id, 1, key_for(app, session_id, 1, right=False), csrf).json
    assert reply["in_book"] is True and reply["box"] == 0
    book = client.get("/practice/mistakes").get_data(as_text=True)
    assert "错题本（1 题）" in book and "再答对 2 次移出" in book
    for expected_box, in_book in ((1, True), (2, False)):
        retry, html = start(client, kind="mistakes")
        assert len(items_of(html)) == 1
        reply = post_answer(client, retry, 1, key_for(app, retry, 1), csrf_from(html)).json
        assert reply["correct"] is True and reply["box"] == expected_box and reply["in_book"] is in_book
    assert "错题本（0 题）" in client.get("/practice/mistakes").get_data(as_text=True)
    page = client.get("/practice/")
    reply = client.post("/practice/start", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "kind": "mistakes"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/practice/")


def test_daily_set_is_the_same_all_day_and_new_the_next(app, client, people, clock):
    login(client, "20260001")
    first, html = start(client, kind="daily")
    assert len(items_of(html)) == 10
    again, _ = start(client, kind="daily")
    assert again == first
    clock.advance(days=1)
    later, _ = start(client, kind="daily")
    assert later != first


def test_superseded_versions_only_when_chosen_by_version(app, client, build, clock):
    from quizapp.services.practice_catalog import chapter_pool

    build.bank()
    with app.app_context():
        from quizapp.models import Bank
        db.session.scalar(db.select(Bank)).in_force = False
        db.session.commit()
        assert chapter_pool("监察法", None, None) == []
        assert len(chapter_pool("监察法", "2024", None)) == 12
    build.participant("20260001")
    login(client, "20260001")
    page = client.get("/practice/").get_data(as_text=True)
    assert "按版本练习旧版本" in page
    reply = client.post("/practice/start", data={"csrf_token": csrf_from(page), "kind": "chapter", "document": "监察法",
                                                 "count": "10"})
    assert reply.headers["Location"].endswith("/practice/")
    session_id, html = start(client, kind="chapter", document="监察法", version="2024", count="10")
    assert len(items_of(html)) == 10


def test_practice_pages_need_a_participant(app, client, people, build):
    assert client.get("/practice/").status_code == 302
    build.admin()
    login(client, "admin")
    assert client.get("/practice/").status_code == 403
