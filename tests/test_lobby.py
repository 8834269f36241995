"""The participant's lobby: what can be done now comes first; a person who did not advance
reads 未晋级 and why; finished rounds show score out of the maximum and ranks once released."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.advancement import Rule
from quizapp.extensions import db
from quizapp.models import AttemptItem, Question, Round, User
from quizapp.services import advancing
from quizapp.services import attempts as attempt_service
from quizapp.services.rounds import close_round, open_round, publish

from .conftest import START, login


def take(app, username, round_id, right: bool):
    """`username` takes the round through the services, answering question 1 right or not."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        attempt = attempt_service.start_attempt(db.session.get(Round, round_id), user)
        item = db.session.scalar(select(AttemptItem).filter_by(attempt_id=attempt.id, position=1))
        question = db.session.get(Question, item.question_id)
        shown = chr(ord("A") + item.option_order.index(question.answer))
        wrong = next(chr(ord("A") + i) for i, key in enumerate(item.option_order) if key != question.answer)
        attempt_service.save_response(attempt.id, 1, shown if right else wrong, False)
        attempt_service.submit_attempt(attempt)


@pytest.fixture
def competition(app, build, clock):
    build.bank()
    build.participant("p1", name="参赛甲")
    build.participant("p2", name="参赛乙")
    first = build.round()
    take(app, "p1", first, right=True)
    take(app, "p2", first, right=False)
    clock.advance(hours=3)
    with app.app_context():
        source = db.session.get(Round, first)
        close_round(source)
        publish(source)
        competition_id = source.competition_id
    later = START + timedelta(hours=3)
    second = build.round(open_=False, competition_id=competition_id, stage="复赛", name="复赛",
                         opens_at=later - timedelta(minutes=5), closes_at=later + timedelta(hours=2))
    practice = build.round(stage="初赛", name="学习自测", opens_at=later - timedelta(minutes=5),
                           closes_at=later + timedelta(hours=5))
    with app.app_context():
        target = db.session.get(Round, second)
        advancing.confirm(db.session.get(Round, first), target, Rule(top_n=1), {}, {})
        open_round(target)
    return first, second, practice


def sections(html: str) -> list[str]:
    import re

    return re.findall(r'<h2 class="lobby-section">(.*?)</h2>', html)


def test_open_round_first_then_not_advanced_then_past(client, competition):
    login(client, "p2")
    html = client.get("/lobby").get_data(as_text=True)
    assert sections(html) == ["现在可以参加", "未获参赛资格的轮次", "已结束的轮次"]
    assert html.index("学习自测") < html.index("复赛") < html.index("· 初赛")
    assert "未晋级：根据初赛成绩，晋级条件为「总排名前 1 名」，您在初赛中总排名第 2 名、本单位第 2 名，未达到晋级条件。" in html
    assert "您未参加" not in html


def test_finished_round_shows_score_of_maximum_and_ranks(client, competition):
    login(client, "p1")
    html = client.get("/lobby").get_data(as_text=True)
    assert sections(html)[0] == "现在可以参加"
    assert "全县第 1 名，本单位第 1 名" in html
    import re

    assert re.search(r'得分 <strong class="score">\d+(\.\d+)?</strong> / 10 分', html)


def test_unreleased_round_shows_no_score_or_rank(app, client, build, clock):
    build.bank()
    build.participant("p1")
    round_id = build.round()
    take(app, "p1", round_id, right=True)
    login(client, "p1")
    html = client.get("/lobby").get_data(as_text=True)
    assert "成绩公布后可见" in html and "名，本单位" not in html and "class=\"score\"" not in html
