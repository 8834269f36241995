"""Practice beside the competition: scores and leaderboards never change, published rounds'
mistakes reach the 错题本, the lobby's order, and the liaison's and organizer's figures
(own unit only; per 党支部 when the roster has that column)."""
from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem, Round, User
from quizapp.services.rounds import close_round, publish

from .conftest import csrf_from, login
from .test_lobby import take
from .test_practice_routes import items_of, key_for, post_answer, start


@pytest.fixture
def published(app, build, clock):
    """A published 初赛: p1 right on question 1, p2 wrong on it (both in 县纪委监委机关)."""
    build.bank()
    build.participant("p1", name="参赛甲")
    build.participant("p2", name="参赛乙")
    round_id = build.round()
    take(app, "p1", round_id, right=True)
    take(app, "p2", round_id, right=False)
    clock.advance(hours=3)
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        close_round(round_)
        publish(round_)
    return round_id


def snapshot(app, round_id):
    from quizapp.services.results import individual_leaderboard, unit_leaderboard

    with app.app_context():
        round_ = db.session.get(Round, round_id)
        people = [dataclasses.astuple(r) for r in individual_leaderboard(round_)]
        units = [dataclasses.astuple(r) for r in unit_leaderboard(round_)]
        scores = sorted(db.session.execute(select(Attempt.user_id, Attempt.score, Attempt.time_used)).all())
        items = sorted(db.session.execute(select(AttemptItem.id, AttemptItem.points, AttemptItem.response)).all(), key=repr)
        assert people and units and scores and items
        return people, units, scores, items


def practise_everything(app, client, rights=True):
    """One chapter set answered in full, alternately right and wrong, and a set of mistakes."""
    session_id, html = start(client, kind="chapter", document="监察法", count="20")
    csrf = csrf_from(html)
    for position in range(1, len(items_of(html)) + 1):
        reply = post_answer(client, session_id, position, key_for(app, session_id, position, right=position % 2 == 0), csrf)
        assert reply.status_code == 200
    retry, html = start(client, kind="mistakes")
    for position in range(1, len(items_of(html)) + 1):
        assert post_answer(client, retry, position, key_for(app, retry, position), csrf_from(html)).status_code == 200


def test_practice_never_changes_competition_scores_or_leaderboards(app, client, published):
    before = snapshot(app, published)
    login(client, "p2")
    lobby_before = re.sub(r'value="[^"]+"', "", client.get("/lobby").get_data(as_text=True))
    practise_everything(app, client)
    other = app.test_client()
    login(other, "p1")
    practise_everything(app, other)
    assert snapshot(app, published) == before
    lobby_after = re.sub(r'value="[^"]+"', "", client.get("/lobby").get_data(as_text=True))
    ranks = re.compile(r"得分 .*?名。", re.S)
    assert ranks.findall(lobby_after) == ranks.findall(lobby_before) != []


def test_a_question_missed_in_a_published_round_is_in_the_book(app, client, published, build, clock):
    from datetime import timedelta

    """Each took a 7-question paper and answered only question 1 (blank counts as wrong)."""
    login(client, "p2")
    book = client.get("/practice/mistakes").get_data(as_text=True)
    assert "错题本（7 题）" in book and book.count("来自竞赛") == 7
    first = app.test_client()
    login(first, "p1")
    assert "错题本（6 题）" in first.get("/practice/mistakes").get_data(as_text=True)
    # Not yet published: nothing reaches the book.
    build.participant("p3", name="参赛丙")
    later = build.round(name="另一轮", opens_at=clock.moment - timedelta(minutes=5), closes_at=clock.moment + timedelta(hours=2))
    take(app, "p3", later, right=False)
    third = app.test_client()
    login(third, "p3")
    assert "错题本（0 题）" in third.get("/practice/mistakes").get_data(as_text=True)


def test_lobby_shows_an_open_round_then_practice_then_past_rounds(app, client, published, build, clock):
    from datetime import timedelta

    with app.app_context():
        competition_id = db.session.get(Round, published).competition_id
    build.round(competition_id=competition_id, stage="复赛", name="复赛", opens_at=clock.moment - timedelta(minutes=5),
                closes_at=clock.moment + timedelta(hours=2))
    login(client, "p2")
    html = client.get("/lobby").get_data(as_text=True)
    assert html.index("现在可以参加") < html.index('id="practice-card"') < html.index("已结束的轮次")
    card = html[html.index('id="practice-card"'):]
    assert "错题本（7）" in card and "每日一练" in card and "阶段" not in card.split("</section>")[0]


def test_a_person_in_no_round_can_practise(app, client, build, clock):
    build.bank()
    build.participant("p9", name="未参赛")
    login(client, "p9")
    html = client.get("/lobby").get_data(as_text=True)
    assert 'id="practice-card"' in html
    session_id, page = start(client, kind="daily")
    assert len(items_of(page)) == 10


@pytest.fixture
def two_units(app, build, clock):
    from quizapp.services.accounts import hash_password

    build.bank()
    a = build.participant("a1", unit="县财政局", name="财政甲")
    build.participant("a2", unit="县财政局", name="财政乙")
    b = build.participant("b1", unit="县审计局", name="审计甲")
    with app.app_context():
        db.session.get(User, a).branch = "第一党支部"
        unit_id = db.session.get(User, a).unit_id
        db.session.add(User(username="lo", name="联络员", role="liaison", unit_id=unit_id,
                            password_hash=hash_password("pw-123456")))
        db.session.commit()
    return a, b


def test_liaison_sees_own_unit_practice_and_nothing_of_another_unit(app, client, two_units):
    a, b = two_units
    practiser = app.test_client()
    login(practiser, "a1")
    session_id, html = start(practiser, kind="chapter", document="监察法", count="10")
    for position in (1, 2, 3):
        post_answer(practiser, session_id, position, key_for(app, session_id, position, right=position != 2), csrf_from(html))
    login(client, "lo")
    page = client.get("/unit/practice").get_data(as_text=True)
    assert "财政甲" in page and "财政乙" in page and "审计甲" not in page
    assert "第一党支部" in page and "未填党支部" in page
    assert "本周谁练习了（1 / 2 人）" in page and "67%" in page
    assert client.get(f"/unit/practice/people/{a}").status_code == 200
    assert client.get(f"/unit/practice/people/{b}").status_code == 404
    assert client.get("/admin/practice").status_code == 403


def test_organizer_sees_every_unit_and_the_county_total(app, client, two_units, build):
    a, b = two_units
    practiser = app.test_client()
    login(practiser, "b1")
    session_id, html = start(practiser, kind="chapter", document="监察法", count="10")
    post_answer(practiser, session_id, 1, key_for(app, session_id, 1), csrf_from(html))
    build.admin()
    login(client, "admin")
    page = client.get("/admin/practice").get_data(as_text=True)
    assert "县财政局" in page and "县审计局" in page
    total = page[page.index("全县合计"):page.index("</tr>", page.index("全县合计"))]
    assert re.findall(r'<td class="num">([^<]*)</td>', total)[:5] == ["3", "1", "33%", "1", "100%"]
    with app.app_context():
        unit_id = db.session.get(User, b).unit_id
    unit_page = client.get(f"/admin/practice/units/{unit_id}").get_data(as_text=True)
    assert "审计甲" in unit_page and "财政甲" not in unit_page
    assert client.get("/admin/practice/units/99999").status_code == 404


def test_roster_column_dangzhibu_fills_the_branch(app, ctx, tmp_path):
    from quizapp.services.accounts import import_roster
    from quizapp.services.rosters import read_roster

    path = tmp_path / "名单.csv"
    path.write_text("姓名,单位,准考证号,党支部\n张三,县财政局,K001,机关第一党支部\n李四,县财政局,K002,\n", encoding="utf-8")
    report = read_roster(path)
    assert report.errors == []
    import_roster(report)
    branches = dict(db.session.execute(select(User.username, User.branch)).all())
    assert branches == {"K001": "机关第一党支部", "K002": None}
