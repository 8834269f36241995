"""Never lose an answer: saves racing a submission, on the real database.

Seven threads each keep saving one question's answer while the main thread submits. Every
save the server acknowledged must be in the stored attempt and in its score; every save after
the submission must be refused.
"""
import threading
import time

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Round, User
from quizapp.scoring import score_response
from quizapp.services import ServiceError
from quizapp.services.attempts import save_response, start_attempt, submit_attempt
from quizapp.services.drawing import scoring_rules


def choices_for(item):
    q = item.question
    if q.type == "single":
        return ["A", "B", "C", "D"][: len(q.options)]
    if q.type == "multiple":
        return [["A", "B"], ["B", "C"], ["A", "C"]]
    if q.type == "judge":
        return [True, False]
    return [[str(n)] * len(q.answer) for n in range(5)]


def test_acknowledged_saves_survive_a_racing_submit(app, build):
    build.bank()
    build.participant("p1")
    from datetime import timedelta

    from quizapp.clock import utcnow
    round_id = build.round(opens_at=utcnow() - timedelta(minutes=1), closes_at=utcnow() + timedelta(hours=1))
    with app.app_context():
        attempt = start_attempt(db.session.get(Round, round_id), db.session.scalar(select(User).filter_by(username="p1")))
        attempt_id = attempt.id
        plans = {item.position: choices_for(item) for item in attempt.items}

    acknowledged: dict[int, object] = {}
    refused_after_submit = []
    counts: dict[int, int] = {}
    late: dict[int, int] = {}
    submitted = threading.Event()
    errors = []

    def worker(position):
        try:
            with app.app_context():
                attempt = db.session.get(Attempt, attempt_id)
                for n in range(10_000):
                    value = plans[position][n % len(plans[position])]
                    try:
                        save_response(attempt, position, value, False)
                    except ServiceError:
                        refused_after_submit.append(position)
                        return
                    acknowledged[position] = value
                    counts[position] = counts.get(position, 0) + 1
                    if submitted.is_set():
                        # One save may have been in flight while the submission committed; no more.
                        late[position] = late.get(position, 0) + 1
                        if late[position] > 1:
                            errors.append(f"question {position}: saves accepted after the submission")
                            return
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(p,)) for p in plans]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    with app.app_context():
        submit_attempt(db.session.get(Attempt, attempt_id))
    submitted.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and sorted(refused_after_submit) == sorted(plans)
    assert all(counts.get(p, 0) >= 3 for p in plans), f"the race did not happen: {counts}"

    from quizapp.services.attempts import to_bank_response
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        rules = scoring_rules(attempt.round)
        total = 0.0
        for item in attempt.items:
            expected = to_bank_response(item.question, item.option_order, acknowledged.get(item.position))
            assert item.response == expected, f"question {item.position}: acknowledged answer lost"
            assert item.points == score_response(item.question.type, item.question.answer, item.response, rules)
            total += item.points
        assert attempt.status == "submitted" and attempt.score == round(total, 2)
