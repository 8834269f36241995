"""Services of the whole competition: advancement, corrections, interventions, teams, publishing."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.advancement import Rule
from quizapp.extensions import db
from quizapp.models import Attempt, AuditEvent, PreparedPaper, Question, Round, RoundEntrant, Team, User
from quizapp.services import ServiceError
from quizapp.services import advancing, corrections, interventions
from quizapp.services.attempts import open_on_device, save_response, start_attempt, submit_attempt, TakenOver
from quizapp.services.results import individual_leaderboard, unit_leaderboard
from quizapp.services.rounds import close_round, open_round, publish

from .conftest import START
from .test_attempts import correct_display


def user(username):
    return db.session.scalar(select(User).filter_by(username=username))


def sit(round_, username, right: int, clock, minutes=5):
    """`username` answers the first `right` questions correctly, the rest wrong, then submits."""
    attempt = start_attempt(round_, user(username))
    for item in attempt.items:
        good = correct_display(item)
        if item.position <= right:
            save_response(attempt, item.position, good, False)
        elif item.question.type == "judge":
            save_response(attempt, item.position, not good, False)
    clock.advance(minutes=minutes)
    submit_attempt(attempt)
    return attempt


@pytest.fixture
def two_rounds(app, build, clock):
    """初赛 (4 judge questions, 1 point each) taken by five people in two units; 复赛 in draft."""
    build.bank()
    for username, unit in (("a1", "甲"), ("a2", "甲"), ("a3", "甲"), ("b1", "乙"), ("b2", "乙")):
        build.participant(username, unit=unit, name=username.upper())
    first = build.round(sections=[{"type": "judge", "count": 3}])
    with app.app_context():
        round_ = db.session.get(Round, first)
        second = Round(competition_id=round_.competition_id, seq=2, stage="复赛", name="复赛", opens_at=START,
                       closes_at=START + timedelta(hours=5), time_limit_minutes=20,
                       rules=[{"type": "judge", "count": 3}], points=round_.points, seed="s2")
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    return first, second_id


def test_advancement_ties_at_the_line_preview_confirm_and_undo(app, ctx, two_rounds, clock):
    first, second = (db.session.get(Round, i) for i in two_rounds)
    sit(first, "a1", 3, clock, minutes=5)
    sit(first, "a2", 2, clock, minutes=5)
    sit(first, "b1", 2, clock, minutes=5)
    sit(first, "b2", 1, clock, minutes=5)
    # a2 and b1 both scored 2 in 5 minutes, but submitted at different moments: not tied.
    decisions, _ = advancing.plan(first, Rule(top_n=2), {}, {})
    assert [d.candidate.name for d in decisions if d.qualified] == ["A1", "A2"]
    # Same rule with the per-unit best one: b1 is best of 乙.
    count = advancing.confirm(first, second, Rule(per_unit=1), {"a3": "因病缺考，经批准补入"}, {})
    assert count == 3 and second.restricted
    entrants = {e.user.username: e for e in second.entrants}
    assert set(entrants) == {"a1", "b1", "a3"} and entrants["a3"].via == "manual"
    assert "本单位第 1 名" in entrants["b1"].reason
    assert start_attempt_refused(second, "a2", clock)
    advancing.undo(second)
    assert not second.restricted and db.session.scalar(select(func.count()).select_from(RoundEntrant)) == 0
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.index("advance.confirm") < actions.index("advance.undo")


def start_attempt_refused(round_, username, clock) -> bool:
    open_round(round_)
    try:
        start_attempt(round_, user(username))
    except ServiceError as exc:
        round_.status = "draft"
        db.session.commit()
        return "参赛资格" in str(exc)
    return False


def test_tie_at_the_line_all_advance(app, ctx, two_rounds, clock):
    first, second = (db.session.get(Round, i) for i in two_rounds)
    # Two people with the same score, time and submission moment share rank 2.
    attempts = [start_attempt(first, user(u)) for u in ("a1", "a2", "b1")]
    for attempt, right in zip(attempts, (3, 1, 1)):
        for item in attempt.items[:right]:
            save_response(attempt, item.position, correct_display(item), False)
    clock.advance(minutes=3)
    for attempt in attempts:
        submit_attempt(attempt)
    decisions, _ = advancing.plan(first, Rule(top_n=2), {}, {})
    qualified = [d for d in decisions if d.qualified]
    assert {d.candidate.name for d in qualified} == {"A1", "A2", "B1"}
    assert all("并列" in d.reason for d in qualified if d.rank == 2)


def test_correction_rescores_every_round_and_reports_changes(app, ctx, two_rounds, clock):
    first = db.session.get(Round, two_rounds[0])
    a1 = sit(first, "a1", 3, clock)
    b1 = sit(first, "b1", 0, clock)
    question = a1.items[0].question
    old_key = question.answer
    before_a1 = a1.score
    flipped = "错误" if old_key else "正确"
    correction = corrections.correct_key(question, flipped, "原答案依据条文理解有误")
    db.session.expire_all()
    a1, b1 = db.session.get(Attempt, a1.id), db.session.get(Attempt, b1.id)
    assert a1.score == before_a1 - 1
    assert all(v.answer is (not old_key) for v in db.session.scalars(select(Question).filter_by(qid=question.qid)))
    changed = {row["username"]: row for row in correction.report}
    assert changed["a1"]["score_before"] == before_a1 and changed["a1"]["score_after"] == before_a1 - 1
    assert changed["a1"]["rank_before"] == 1
    # Voiding with "drop" removes the question from everyone's total and maximum.
    corrections.void_question(db.session.get(Question, question.id), "drop", "题目有歧义")
    db.session.expire_all()
    a1 = db.session.get(Attempt, a1.id)
    assert a1.max_score == 2 and a1.score == before_a1 - 1
    corrections.void_question(db.session.get(Question, question.id), "award", "改为全体得分")
    db.session.expire_all()
    assert db.session.get(Attempt, a1.id).score == before_a1 and db.session.get(Attempt, a1.id).max_score == 3
    with pytest.raises(ServiceError):
        corrections.correct_key(db.session.get(Question, question.id), "也许", "x")
    # The set-based re-scoring agrees with scoring every attempt from scratch.
    from quizapp.models import AttemptItem
    from quizapp.services.attempts import score_attempt

    def item_points(attempt_id):
        return list(db.session.scalars(select(AttemptItem.points).where(AttemptItem.attempt_id == attempt_id)
                                       .order_by(AttemptItem.position)))
    for attempt in db.session.scalars(select(Attempt)).all():
        stored = (attempt.score, attempt.max_score, item_points(attempt.id))
        score_attempt(attempt)
        db.session.flush()
        assert (attempt.score, attempt.max_score, item_points(attempt.id)) == stored
    db.session.rollback()


def test_extend_reopen_and_invalidate(app, ctx, two_rounds, clock):
    first = db.session.get(Round, two_rounds[0])
    attempt = start_attempt(first, user("a1"))
    deadline = attempt.deadline_at
    with pytest.raises(ServiceError, match="原因"):
        interventions.extend(attempt, 10, "")
    interventions.extend(attempt, 10, "网络故障")
    assert attempt.deadline_at == deadline + timedelta(minutes=10)
    submit_attempt(attempt)
    interventions.reopen(attempt, 5, "误触交卷")
    assert attempt.status == "in_progress" and attempt.deadline_at == clock() + timedelta(minutes=5)
    save_response(attempt, 1, correct_display(attempt.items[0]), False)
    submit_attempt(attempt)
    assert attempt.score == 1
    interventions.invalidate(attempt, "替考")
    assert attempt.score == 0 and attempt.status_label == "已作废"
    row = individual_leaderboard(first)[0]
    assert row.rank is None and row.status == "已作废"
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-3:] == ["attempt.extend", "attempt.reopen", "attempt.invalidate"]


def test_second_device_takes_over(app, ctx, two_rounds, clock):
    first = db.session.get(Round, two_rounds[0])
    attempt = start_attempt(first, user("a1"))
    phone = open_on_device(attempt, user("a1"), None, "10.0.0.1", "Phone")
    save_response(attempt, 1, True, False, phone)
    pc = open_on_device(attempt, user("a1"), None, "10.0.0.2", "PC")
    with pytest.raises(TakenOver):
        save_response(attempt, 2, True, False, phone)
    save_response(attempt, 2, True, False, pc)
    assert open_on_device(attempt, user("a1"), pc, "10.0.0.2", "PC") == pc
    assert [(e.kind, e.ip) for e in attempt.events] == [("start", "10.0.0.1"), ("takeover", "10.0.0.2"), ("resume", "10.0.0.2")]


def test_later_round_avoids_questions_already_seen(app, ctx, build, clock):
    build.bank()
    build.participant("a1")
    first = db.session.get(Round, build.round(sections=[{"type": "single", "count": 2}]))
    seen = {i.question.qid for i in start_attempt(first, user("a1")).items}
    # The second round of the same competition: its papers are drawn when it opens.
    second = db.session.get(Round, build.round(competition_id=first.competition_id,
                                               sections=[{"type": "single", "count": 2}]))
    assert second.seq == 2 and db.session.scalar(select(func.count()).select_from(PreparedPaper)) == 2
    assert not seen & {i.question.qid for i in start_attempt(second, user("a1")).items}


def test_shared_team_round(app, ctx, build, clock):
    build.bank()
    for username, unit in (("a1", "甲"), ("a2", "甲"), ("a3", "甲"), ("a4", "甲"), ("b1", "乙")):
        build.participant(username, unit=unit)
    round_id = build.round(open_=False, team_size=3, team_scoring="shared", sections=[{"type": "judge", "count": 3}])
    round_ = db.session.get(Round, round_id)
    from quizapp.services.teams import form_teams
    assert form_teams(round_) == 2
    db.session.commit()
    teams = {t.unit.name: [m.user.username for m in t.members] for t in db.session.scalars(select(Team))}
    assert teams == {"甲": ["a1", "a2", "a3"], "乙": ["b1"]}
    open_round(round_)
    with pytest.raises(ServiceError, match="参赛队伍"):
        start_attempt(round_, user("a4"))
    shared = start_attempt(round_, user("a1"))
    assert start_attempt(round_, user("a2")).id == shared.id
    save_response(shared, 1, correct_display(shared.items[0]), False)
    submit_attempt(shared)
    board = unit_leaderboard(round_)
    assert [(r.name, r.rank, r.value) for r in board] == [("甲代表队", 1, 1.0), ("乙代表队", None, None)]


def test_publishing_needs_a_closed_round(app, ctx, two_rounds, clock):
    first = db.session.get(Round, two_rounds[0])
    with pytest.raises(ServiceError):
        publish(first)
    close_round(first, "演练结束")
    publish(first)
    assert first.published_at is not None
    event = db.session.scalar(select(AuditEvent).filter_by(action="round.close"))
    assert "提前结束：演练结束" in event.summary
