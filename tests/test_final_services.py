"""quizapp.services.final / final_live: set-up, the event log, rebuilding after a restart,
payloads per audience, and the final's scores as the round's team results."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import AuditEvent, Final, FinalEvent, Round, User
from quizapp.services import ServiceError
from quizapp.services import final as final_service
from quizapp.services import final_live

from .conftest import login
from .final_setup import final_round, team_ids


def _play(final_id, steps):
    for kind, data in steps:
        final_live.act(final_id, kind, data, None, mono_ns=final_live.time_ns() if kind == "press" else None)


def test_create_final_makes_team_logins_and_a_run_sheet(app, build, client):
    final_id = final_round(build, app)
    with app.app_context():
        final = db.session.get(Final, final_id)
        assert [ft.team.name for ft in final.teams] == ["县纪委监委机关代表队", "县委办公室代表队", "县财政局代表队"]
        assert {ft.user.role for ft in final.teams} == {"team"}
        parts = [q.part for q in final.questions]
        assert parts == ["required"] * 3 + ["buzzer"] * 2 + ["risk"] * 3 + ["tiebreak"] + ["tiebreak_risk"] * 2
        assert len({q.question_id for q in final.questions}) == 11
        assert all(q.question.type in final.config[q.part]["types"] for q in final.questions)
        assert [q.final_team_id for q in final.questions[:3]] == [ft.id for ft in final.teams]
        slip = final_service.slips(final)[0]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action="final.create")) == 1
    page = login(client, slip["username"], slip["password"])
    assert page.headers["Location"].endswith("/buzzer")
    assert client.get("/buzzer").status_code == 200
    assert client.get("/admin/").status_code == 403 and client.get("/lobby").status_code == 403
    assert client.get(f"/admin/finals/{final_id}/console").status_code == 403


def test_only_a_team_round_of_the_final_stage_gets_a_final(app, build, ctx):
    build.bank()
    round_id = build.round(open_=False, stage="复赛", name="复赛")
    with pytest.raises(ServiceError, match="只有决赛团体轮次"):
        final_service.create_final(db.session.get(Round, round_id))


def test_questions_avoid_what_finalists_saw_earlier(app, build):
    """A finalist saw a question in an earlier round of the competition: the final's run sheet,
    drawn again, does not ask it (the bank has other questions that fit)."""
    from quizapp.models import Attempt, AttemptItem, Question

    small = {"required": {"count_per_team": 1}, "buzzer": {"count": 0}, "risk": {"count_per_team": 0},
             "tiebreak": {"count": 1}, "tiebreak_risk": {"count": 0}}
    final_id = final_round(build, app, config=small)
    earlier_id = build.round(open_=False)
    with app.app_context():
        final = db.session.get(Final, final_id)
        earlier = db.session.get(Round, earlier_id)
        earlier.competition_id, earlier.seq = final.round.competition_id, 0  # the 初赛 before this 决赛
        singles = db.session.scalars(select(Question).filter_by(type="single").order_by(Question.id)).all()
        member = final.teams[0].team.members[0].user_id
        attempt = Attempt(round_id=earlier_id, user_id=member, status="submitted", started_at=final.created_at,
                          deadline_at=final.created_at, score=0, max_score=1)
        db.session.add(attempt)
        db.session.flush()
        for position, question in enumerate(singles[:3], start=1):
            db.session.add(AttemptItem(attempt_id=attempt.id, position=position, question_id=question.id, option_order=[]))
        db.session.commit()
        seen = {q.qid for q in singles[:3]}
        for seed in ("a", "b", "c", "d"):
            final.questions.clear()  # delete-orphan: the old run sheet goes
            db.session.flush()
            final_service._plan(final, seed)
            db.session.flush()
            assert not seen & {fq.question.qid for fq in final.questions}, seed
        db.session.rollback()


def test_swap_changes_the_question_until_the_final_starts(app, build, ctx):
    final_id = final_round(build, app)
    final = db.session.get(Final, final_id)
    before = final.questions[3].question_id
    final_service.swap_question(final, 3)
    assert final.questions[3].question_id != before and final.questions[3].part == "buzzer"
    assert db.session.scalar(select(AuditEvent).filter_by(action="final.swap")).summary.startswith("第 4 题换题")
    final_live.act(final_id, "begin", {}, None)
    with pytest.raises(ServiceError, match="开始后不能再换题"):
        final_service.swap_question(db.session.get(Final, final_id), 3)


def test_every_step_is_logged_and_the_state_rebuilds_after_a_restart(app, build, ctx):
    final_id = final_round(build, app)
    a, b, c = team_ids(app, final_id)
    steps = [("begin", {})] + [x for _ in range(3) for x in (("open", {}), ("show", {}), ("judge", {"correct": True}), ("reveal", {}))]
    steps += [("open", {}), ("show", {}), ("press", {"team": c}), ("start", {}), ("press", {"team": b}),
              ("press", {"team": a}), ("judge", {"correct": False}), ("adjust", {"team": a, "delta": -5, "reason": "提示观众"})]
    _play(final_id, steps)
    final, state, info = final_live.load(final_id)
    assert db.session.scalar(select(func.count()).select_from(FinalEvent).filter_by(final_id=final_id)) == len(steps)
    assert state.scores == {a: 105, b: 100, c: 100}  # a: +10 required, -5 adjusted; b: +10 -10; c: +10 -10 false start
    assert state.answering == a and state.timer["kind"] == "answer"
    before = final_live.host_payload(final, state, info)
    final_live._STATES.clear()  # a restarted process has no cache: everything comes from the log
    db.session.expire_all()
    final, rebuilt, info = final_live.load(final_id)
    after = final_live.host_payload(final, rebuilt, info)
    before.pop("now"), after.pop("now")
    assert after == before
    assert db.session.scalar(select(AuditEvent).filter_by(action="final.adjust")).summary == "县纪委监委机关代表队 -5 分，理由：提示观众"


def test_a_refused_step_writes_nothing(app, build, ctx):
    final_id = final_round(build, app)
    with pytest.raises(ServiceError, match="决赛尚未开始"):
        final_live.act(final_id, "open", {}, None)
    final_live.act(final_id, "begin", {}, None)
    with pytest.raises(ServiceError, match="必须填写理由"):
        final_live.act(final_id, "adjust", {"team": team_ids(app, final_id)[0], "delta": 5, "reason": ""}, None)
    assert db.session.scalar(select(func.count()).select_from(FinalEvent)) == 1


def test_public_payload_has_no_answer_until_revealed(app, build, ctx):
    final_id = final_round(build, app)
    _play(final_id, [("begin", {}), ("open", {}), ("show", {})])
    final, state, info = final_live.load(final_id)
    public, host = final_live.public_payload(final, state, info), final_live.host_payload(final, state, info)
    answer = info["slots"][0]["answer"]
    assert "answer" not in public["question"] and "explanation" not in public["question"]
    assert "key" not in public and "sheet" not in public  # the run sheet lists every stem
    assert host["key"]["answer"] == answer
    _play(final_id, [("judge", {"correct": True}), ("reveal", {})])
    final, state, info = final_live.load(final_id)
    assert final_live.public_payload(final, state, info)["question"]["answer"] == answer


def test_the_finished_final_is_the_rounds_team_ranking(app, build, ctx):
    from quizapp.services.results import export_table, unit_leaderboard

    final_id = final_round(build, app, config={"required": {"count_per_team": 1}, "buzzer": {"count": 0},
                                                "risk": {"count_per_team": 0}, "tiebreak": {"count": 1},
                                                "tiebreak_risk": {"count": 0}})
    a, b, c = team_ids(app, final_id)
    round_ = db.session.get(Final, final_id).round
    assert unit_leaderboard(round_)[0].value is None  # nothing played online or on stage yet
    one = [("open", {}), ("show", {}), ("judge", {"correct": True}), ("reveal", {})]
    _play(final_id, [("begin", {})] + one + [("open", {}), ("show", {}), ("judge", {"correct": False}), ("reveal", {})])
    with pytest.raises(ServiceError, match="还有题目未进行"):
        final_live.act(final_id, "finish", {}, None)
    _play(final_id, one)
    _play(final_id, [("tiebreak", {"teams": [a, c]}), ("open", {}), ("show", {}), ("start", {}),
                     ("press", {"team": c}), ("judge", {"correct": True}), ("reveal", {}), ("finish", {})])
    assert db.session.get(Final, final_id).status == "finished"
    rows = unit_leaderboard(round_)
    assert [(r.rank, r.name, r.value) for r in rows] == [
        (1, "县财政局代表队", 120.0), (2, "县纪委监委机关代表队", 110.0), (3, "县委办公室代表队", 100.0)]
    assert export_table(round_, "unit")[1][0][:3] == [1, "县财政局代表队", 120]
    assert db.session.scalar(select(AuditEvent).filter_by(action="final.finish")) is not None
    assert db.session.scalar(select(User).filter_by(role="team")) is not None
