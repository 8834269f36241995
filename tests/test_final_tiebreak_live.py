"""A 风险题 加赛 over the live final's sockets: the host starts it, each tied team chooses its value on
its own device in turn, other teams are refused, no answer key reaches a team before the reveal,
the event log keeps the mode, and the state rebuilds from the log."""
from __future__ import annotations

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import AuditEvent, FinalEvent
from quizapp.services import final_live

from .test_final_sockets import NS, _log_count, final, host, refusals, screen, states, team  # noqa: F401


def _act(h, token, kind, **data):
    h.emit("act", {"csrf": token, "kind": kind, "data": data}, namespace=NS)


def test_a_risk_tiebreak_between_two_tied_teams_over_the_sockets(app, final):  # noqa: F811
    a, b, c = final["teams"]
    h, htoken = host(app, final)
    ta, atoken = team(app, final, 0)
    tb, btoken = team(app, final, 1)
    s = screen(app, final)
    _act(h, htoken, "begin")
    for _ in range(3):  # 必答: all right
        for kind, data in (("open", {}), ("show", {}), ("judge", {"correct": True}), ("reveal", {})):
            _act(h, htoken, kind, **data)
    for _ in range(2):  # 抢答: nobody presses
        for kind in ("open", "show", "start", "void", "reveal"):
            _act(h, htoken, kind)
    for t in (a, b, c):  # 风险: 10, all right → all three at 120
        for kind, data in (("open", {}), ("choose", {"team": t, "value": 10}), ("show", {}), ("judge", {"correct": True}),
                           ("reveal", {})):
            _act(h, htoken, kind, **data)
    _act(h, htoken, "tiebreak", teams=[b, a], mode="risk")
    _act(h, htoken, "open")
    screen_state = states(s)[-1]
    assert screen_state["tiebreak_mode"] == "risk" and screen_state["tiebreak_round"]["teams"] == [a, b]
    assert screen_state["question"]["part"] == "tiebreak_risk" and screen_state["question"]["team"] == a
    assert screen_state["tiebreak_risk"]["values"] == [10, 20, 30]
    states(ta), states(tb), states(h)

    before = _log_count(app)
    tb.emit("choose", {"csrf": btoken, "team": b, "value": 20}, namespace=NS)  # not b's turn
    assert refusals(tb) == ["本题不是该队的风险题"]
    tb.emit("choose", {"csrf": btoken, "team": a, "value": 20}, namespace=NS)  # for another team
    assert refusals(tb) == ["不能替其他队伍操作"]
    assert _log_count(app) == (before[0], before[1] + 1)  # the second is logged as a refusal; nothing written

    ta.emit("choose", {"csrf": atoken, "team": a, "value": 20}, namespace=NS)
    mine = states(ta)[-1]
    assert mine["question"]["value"] == 20 and "stem" not in mine["question"]  # the value before the question
    assert mine["tiebreak_risk"]["used"] == {str(a): {"20": 1}}
    _act(h, htoken, "show")
    for public in (states(ta)[-1], states(tb)[-1], states(s)[-1]):
        assert public["question"]["stem"] and "answer" not in public["question"] and "key" not in public
        assert public["answering"] == a
    _act(h, htoken, "judge", correct=True)
    _act(h, htoken, "reveal")
    assert "answer" in states(ta)[-1]["question"]
    _act(h, htoken, "open")
    assert states(tb)[-1]["question"]["team"] == b
    tb.emit("choose", {"csrf": btoken, "team": b, "value": 10}, namespace=NS)
    for kind, data in (("show", {}), ("judge", {"correct": False}), ("reveal", {})):
        _act(h, htoken, kind, **data)
    host_state = states(h)[-1]
    assert {r["team"]: r["score"] for r in host_state["scores"]} == {a: 140, b: 110, c: 120}
    assert host_state["tiebreak_round"]["outcome"] == "decided"
    assert "open" not in host_state["allowed"] and "finish" in host_state["allowed"]

    with app.app_context():
        logged = db.session.scalar(select(FinalEvent).filter_by(kind="tiebreak"))
        assert logged.data == {"teams": [b, a], "mode": "risk"}
        summary = db.session.scalar(select(AuditEvent).filter_by(action="final.tiebreak")).summary
        assert summary == "风险题加赛：县委办公室代表队、县纪委监委机关代表队"
        final_, state, info = final_live.load(final["id"])
        kept = final_live.host_payload(final_, state, info)
        final_live._STATES.clear()  # a restarted process: rebuilt from the log alone
        final_, state, info = final_live.load(final["id"])
        rebuilt = final_live.host_payload(final_, state, info)
        kept.pop("now"), rebuilt.pop("now")
        assert rebuilt == kept
    _act(h, htoken, "finish")
    assert states(s)[-1]["status"] == "finished"
