"""Papers drawn when a round opens: one per person (or shared-paper team), used by 开始,
and the same paper a start would draw without them."""
from sqlalchemy import delete, func, select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem, PreparedPaper, Round
from quizapp.services.attempts import start_attempt
from quizapp.services.rounds import open_round
from quizapp.services.teams import form_teams

from .test_competition_services import user


def paper_of(attempt):
    return [[i.question_id, list(i.option_order)] for i in
            db.session.scalars(select(AttemptItem).filter_by(attempt_id=attempt.id).order_by(AttemptItem.position))]


def test_opening_draws_every_paper_and_starting_uses_it(app, ctx, build, clock):
    build.bank()
    for name in ("a1", "a2", "a3"):
        build.participant(name)
    round_ = db.session.get(Round, build.round(open_=False))
    assert open_round(round_) == 3
    prepared = {p.user_id: p for p in db.session.scalars(select(PreparedPaper).filter_by(round_id=round_.id))}
    assert set(prepared) == {user(n).id for n in ("a1", "a2", "a3")}
    assert len({tuple(q for q, _ in p.items) for p in prepared.values()}) > 1  # drawn per person
    attempt = start_attempt(round_, user("a2"))
    assert paper_of(attempt) == prepared[user("a2").id].items
    assert attempt.max_score == prepared[user("a2").id].max_score > 0
    assert start_attempt(round_, user("a2")).id == attempt.id  # pressing 开始 again resumes
    assert db.session.scalar(select(func.count()).select_from(AttemptItem)) == round_.question_count


def test_a_paper_drawn_at_start_is_the_one_opening_would_have_drawn(app, ctx, build, clock):
    build.bank()
    build.participant("a1")
    round_ = db.session.get(Round, build.round())
    expected = db.session.scalar(select(PreparedPaper.items).filter_by(round_id=round_.id))
    db.session.execute(delete(PreparedPaper))  # as for someone added to the roster after opening
    db.session.commit()
    assert paper_of(start_attempt(round_, user("a1"))) == expected


def test_a_shared_team_round_prepares_one_paper_per_team(app, ctx, build, clock):
    build.bank()
    for username, unit in (("a1", "甲"), ("a2", "甲"), ("b1", "乙")):
        build.participant(username, unit=unit)
    round_ = db.session.get(Round, build.round(open_=False, team_size=2, team_scoring="shared",
                                               sections=[{"type": "judge", "count": 3}]))
    form_teams(round_)
    db.session.commit()
    assert open_round(round_) == 2
    rows = db.session.scalars(select(PreparedPaper)).all()
    assert all(p.team_id and p.user_id is None for p in rows)
    shared = start_attempt(round_, user("a2"))
    assert start_attempt(round_, user("a1")).id == shared.id
    assert paper_of(shared) == next(p.items for p in rows if p.team_id == shared.team_id)
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_a_round_for_more_people_than_the_limit_draws_at_start(app, ctx, build, clock, monkeypatch):
    from quizapp.services import drawing

    build.bank()
    for name in ("a1", "a2"):
        build.participant(name)
    monkeypatch.setattr(drawing, "MAX_PREPARED", 1)
    round_ = db.session.get(Round, build.round(open_=False))
    assert open_round(round_) == 0 and round_.status == "open"
    assert db.session.scalar(select(func.count()).select_from(PreparedPaper)) == 0
    assert len(paper_of(start_attempt(round_, user("a1")))) == round_.question_count


def test_disabling_a_question_redraws_the_prepared_papers_that_hold_it(app, ctx, build, clock):
    from quizapp.models import Question
    from quizapp.services.corrections import set_disabled

    build.bank()
    for name in ("a1", "a2", "a3"):
        build.participant(name)
    round_ = db.session.get(Round, build.round())
    started = start_attempt(round_, user("a1"))
    before = paper_of(started)
    waiting = db.session.scalar(select(PreparedPaper.items).filter_by(user_id=user("a2").id))
    question_id = next(q for q, _ in waiting if q in [q for q, _ in before])  # in both papers
    set_disabled(db.session.get(Question, question_id), True)
    papers = db.session.scalars(select(PreparedPaper).filter_by(round_id=round_.id)).all()
    assert papers and all(question_id not in [q for q, _ in p.items] for p in papers
                          if p.user_id != user("a1").id)
    assert paper_of(started) == before  # a started attempt keeps its paper
    assert question_id not in [q for q, _ in paper_of(start_attempt(round_, user("a2")))]
