"""Attempts: drawing, resuming, saving, deadlines and finalizing (services, with a fake clock)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem, Round, User
from quizapp.services import ServiceError
from quizapp.services.attempts import (
    finalize_if_expired, remaining_seconds, save_response, start_attempt, submit_attempt, sweep_expired,
    to_bank_response,
)
from quizapp.services.rounds import close_round


@pytest.fixture
def setup(app, build, clock):
    build.bank()
    build.participant("p1")
    build.participant("p2")
    round_id = build.round()
    return round_id


def get(round_id, username):
    return db.session.get(Round, round_id), db.session.scalar(select(User).filter_by(username=username))


def correct_display(item: AttemptItem):
    """The display-letter response that is right for this item (what a perfect participant sends)."""
    q = item.question
    if q.type == "single":
        return chr(ord("A") + item.option_order.index(q.answer))
    if q.type == "multiple":
        return [chr(ord("A") + item.option_order.index(k)) for k in q.answer]
    if q.type == "judge":
        return q.answer
    return [variants[-1] for variants in q.answer]


def test_start_draws_once_and_resumes_the_same_paper(setup, ctx, clock):
    round_, user = get(setup, "p1")
    attempt = start_attempt(round_, user)
    assert len(attempt.items) == 7 and attempt.deadline_at == clock() + timedelta(minutes=30)
    clock.advance(minutes=5)
    again = start_attempt(round_, user)
    assert again.id == attempt.id and remaining_seconds(again) == 25 * 60
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 1


def test_deadline_is_capped_by_round_closing(setup, ctx, clock):
    clock.advance(minutes=100)
    attempt = start_attempt(*get(setup, "p1"))
    assert attempt.deadline_at == db.session.get(Round, setup).closes_at


def test_perfect_answers_score_full_marks(setup, ctx, clock):
    attempt = start_attempt(*get(setup, "p1"))
    for item in attempt.items:
        save_response(attempt, item.position, correct_display(item), False)
    clock.advance(minutes=12, seconds=7)
    submit_attempt(attempt)
    assert attempt.status == "submitted" and attempt.score == attempt.max_score == 2 * 1 + 2 * 2 + 2 * 1 + 2
    assert attempt.time_used == 12 * 60 + 7


def test_save_after_deadline_is_refused_and_attempt_expires(setup, ctx, clock):
    attempt = start_attempt(*get(setup, "p1"))
    first = attempt.items[0]
    save_response(attempt, first.position, correct_display(first), True)
    clock.advance(minutes=30)
    with pytest.raises(ServiceError, match="时间已到"):
        save_response(attempt, 2, correct_display(attempt.items[1]), False)
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == "expired" and attempt.time_used == 30 * 60
    assert attempt.items[0].points > 0 and attempt.items[0].flagged is True and attempt.items[1].response is None


def test_sweep_finalizes_attempts_whose_browser_never_came_back(setup, ctx, clock):
    attempt = start_attempt(*get(setup, "p1"))
    save_response(attempt, 1, correct_display(attempt.items[0]), False)
    clock.advance(minutes=29)
    assert sweep_expired(setup) == 0
    clock.advance(minutes=2)
    assert sweep_expired(setup) == 1 and sweep_expired(setup) == 0
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).score == attempt.items[0].points > 0


def test_closing_the_round_finalizes_open_attempts_at_close_time(setup, ctx, clock):
    attempt = start_attempt(*get(setup, "p1"))
    clock.advance(minutes=10)
    assert close_round(db.session.get(Round, setup)) == 1
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.status == "expired" and closed.time_used == 600
    with pytest.raises(ServiceError):
        start_attempt(*get(setup, "p2"))


def test_submitting_twice_keeps_the_first_submission(setup, ctx, clock):
    attempt = start_attempt(*get(setup, "p1"))
    clock.advance(minutes=3)
    submit_attempt(attempt)
    clock.advance(minutes=3)
    submit_attempt(attempt)
    assert attempt.time_used == 180
    with pytest.raises(ServiceError):
        save_response(attempt, 1, None, False)


def test_starts_refused_outside_the_window_or_for_draft_rounds(app, build, ctx, clock):
    build.bank()
    build.participant("p1")
    draft = build.round(open_=False)
    with pytest.raises(ServiceError):
        start_attempt(*get(draft, "p1"))
    later = build.round(opens_at=clock() + timedelta(hours=1), closes_at=clock() + timedelta(hours=3))
    with pytest.raises(ServiceError, match="开放时间"):
        start_attempt(*get(later, "p1"))


@pytest.mark.parametrize("qtype, raw", [
    ("single", "E"), ("single", ["A"]), ("multiple", "A"), ("multiple", ["A", "A"]), ("judge", "true"),
    ("fill", "甲"), ("fill", ["甲", "乙", "丙"]), ("fill", ["x" * 201]),
])
def test_malformed_responses_are_refused(qtype, raw):
    class Q:
        type = qtype
        answer = [["甲"]]
    with pytest.raises(ServiceError):
        to_bank_response(Q, ["B", "A", "D", "C"], raw)


def test_display_letters_map_to_bank_letters():
    class Q:
        type = "multiple"
    assert to_bank_response(Q, ["C", "A", "D", "B"], ["A", "D"]) == ["B", "C"]
    assert to_bank_response(Q, ["C", "A", "D", "B"], []) is None


def test_lazy_finalization_on_access(setup, ctx, clock):
    attempt = start_attempt(*get(setup, "p1"))
    clock.advance(hours=1)
    finalize_if_expired(attempt)
    assert attempt.status == "expired" and attempt.score == 0
