"""The live final's Socket.IO handlers: who may do what. Each refusal is told to the sender,
written to the audit log, and leaves the final's state (its event log) unchanged."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db, socketio
from quizapp.models import AuditEvent, Final, FinalEvent
from quizapp.final import sockets
from quizapp.services import final as final_service
from quizapp.services import final_live

from .conftest import csrf_from, login
from .final_setup import final_round, team_ids

NS = "/final"


@pytest.fixture
def final(app, build):
    final_id = final_round(build, app)
    with app.app_context():
        final = db.session.get(Final, final_id)
        return {"id": final_id, "token": final.screen_token, "slips": final_service.slips(final),
                "teams": team_ids(app, final_id)}


def _signed_in(app, username, password=None, page="/buzzer"):
    client = app.test_client()
    login(client, username, password) if password else login(client, username)
    return client, csrf_from(client.get(page).get_data(as_text=True))


def host(app, final):
    client, token = _signed_in(app, "admin", page=f"/admin/finals/{final['id']}/console")
    sio = socketio.test_client(app, namespace=NS, flask_test_client=client, auth={"csrf": token, "final": final["id"]})
    assert sio.is_connected(NS)
    return sio, token


def team(app, final, index=0):
    slip = final["slips"][index]
    client, token = _signed_in(app, slip["username"], slip["password"])
    sio = socketio.test_client(app, namespace=NS, flask_test_client=client, auth={"csrf": token})
    assert sio.is_connected(NS)
    return sio, token


def screen(app, final):
    sio = socketio.test_client(app, namespace=NS, auth={"screen": final["token"]})
    assert sio.is_connected(NS)
    return sio


_LAST: dict[int, dict] = {}  # id(test client) → the last state it was sent


def _received(sio):
    """The messages since the last call; a press delta is folded onto the state before it, as the
    pages' client does (and must apply: its seq follows that state's)."""
    messages = sio.get_received(NS)
    for m in messages:
        if m["name"] == "state":
            _LAST[id(sio)] = m["args"][0]
        elif m["name"] == "delta":
            base, delta = _LAST[id(sio)], m["args"][0]
            assert delta["seq"] == base["seq"] + 1
            m["folded"] = _LAST[id(sio)] = {**base, **delta}
    return messages


def states(sio):
    return [m.get("folded") or m["args"][0] for m in _received(sio) if m["name"] in ("state", "delta")]


def refusals(sio):
    return [m["args"][0]["error"] for m in _received(sio) if m["name"] == "refused"]


def _log_count(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(FinalEvent)),
                db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action="final.refused")))


def test_host_steps_reach_every_room_and_only_the_host_sees_the_answer(app, final):
    h, htoken = host(app, final)
    t, _ = team(app, final)
    s = screen(app, final)
    for sio in (h, t, s):
        assert states(sio)[-1]["seq"] == 0  # each gets the state on connect
    for kind in ("begin", "open", "show"):
        h.emit("act", {"csrf": htoken, "kind": kind, "data": {}}, namespace=NS)
    host_state, team_state, screen_state = states(h)[-1], states(t)[-1], states(s)[-1]
    assert host_state["seq"] == team_state["seq"] == screen_state["seq"] == 3
    assert host_state["key"]["answer"] is not None and host_state["allowed"] == ["judge"]
    for public in (team_state, screen_state):
        assert public["question"]["stem"] and "answer" not in public["question"] and "key" not in public
        assert "sheet" not in public


def test_a_team_pressing_for_another_team_is_refused_and_logged(app, final):
    h, htoken = host(app, final)
    for kind in ("begin",) + ("open", "show", "judge", "reveal") * 3 + ("open", "show", "start"):
        h.emit("act", {"csrf": htoken, "kind": kind, "data": {"correct": True} if kind == "judge" else {}}, namespace=NS)
    t, token = team(app, final, 0)
    before = _log_count(app)
    t.emit("press", {"csrf": token, "team": final["teams"][1]}, namespace=NS)
    assert refusals(t) == ["不能替其他队伍操作"]
    assert _log_count(app) == (before[0], before[1] + 1)
    t.emit("press", {"csrf": token, "team": final["teams"][0]}, namespace=NS)  # its own press is accepted
    assert states(t)[-1]["answering"] == final["teams"][0]
    assert _log_count(app)[0] == before[0] + 1


def test_a_press_reaches_teams_and_screens_as_one_small_delta(app, final):
    h, htoken = host(app, final)
    for kind in ("begin",) + ("open", "show", "judge", "reveal") * 3 + ("open", "show", "start"):
        h.emit("act", {"csrf": htoken, "kind": kind, "data": {"correct": True} if kind == "judge" else {}}, namespace=NS)
    t, token = team(app, final, 0)
    s = screen(app, final)
    states(h), states(t), states(s)
    t.emit("press", {"csrf": token, "team": final["teams"][0]}, namespace=NS)
    for sio in (t, s):
        [message] = sio.get_received(NS)
        assert message["name"] == "delta"
        delta = message["args"][0]
        assert set(delta) == set(final_live.PRESS_FIELDS)  # no question text, no answer key
        assert delta["answering"] == final["teams"][0] and delta["presses"]["order"][0]["team"] == final["teams"][0]
    host_state = states(h)[-1]
    assert host_state["answering"] == final["teams"][0] and host_state["key"]["answer"] is not None


def test_messages_are_stamped_when_read_before_any_handler_runs():
    calls = []
    eio = type("Eio", (), {"handlers": {"message": lambda sid, data: calls.append((sid, sockets._RECEIVED.get(sid)))}})()
    server = type("Server", (), {"eio": eio})()
    sockets.stamp_receipts(server)
    sockets.stamp_receipts(server)  # once only
    before = time.monotonic_ns()
    eio.handlers["message"]("eio-1", '42/final,["press",{}]')
    assert len(calls) == 1 and calls[0][0] == "eio-1" and before <= calls[0][1] <= time.monotonic_ns()
    sockets._RECEIVED.pop("eio-1")


@pytest.mark.parametrize("event, message, expected", [
    ("key", {}, "队伍设备不能获取答案"),
    ("act", {"kind": "reveal", "data": {}}, "只有主持人可以执行此操作"),
    ("act", {"kind": "adjust", "data": {"team": 1, "delta": 50, "reason": "x"}}, "只有主持人可以执行此操作"),
])
def test_a_team_device_cannot_get_the_answer_or_act_as_host(app, final, event, message, expected):
    h, htoken = host(app, final)
    for kind in ("begin", "open", "show"):
        h.emit("act", {"csrf": htoken, "kind": kind, "data": {}}, namespace=NS)
    t, token = team(app, final)
    states(t)
    before = _log_count(app)
    t.emit(event, {"csrf": token, **message}, namespace=NS)
    assert refusals(t) == [expected]
    assert not any("key" in s or "answer" in (s.get("question") or {}) for s in states(t))
    assert _log_count(app) == (before[0], before[1] + 1)


def test_the_screen_token_cannot_act(app, final):
    s = screen(app, final)
    before = _log_count(app)
    for event, message in (("act", {"kind": "begin", "data": {}}), ("press", {"team": final["teams"][0]}),
                           ("key", {})):
        s.emit(event, message, namespace=NS)
    assert refusals(s) == ["大屏令牌只能观看，不能操作"] * 3
    assert _log_count(app) == (before[0], before[1] + 3)


def test_actions_without_csrf_are_refused(app, final):
    h, htoken = host(app, final)
    t, _ = team(app, final)
    before = _log_count(app)
    h.emit("act", {"kind": "begin", "data": {}}, namespace=NS)
    h.emit("act", {"csrf": "forged", "kind": "begin", "data": {}}, namespace=NS)
    t.emit("press", {"team": final["teams"][0]}, namespace=NS)
    assert refusals(h) == ["操作缺少有效的安全令牌（CSRF）"] * 2
    assert refusals(t) == ["操作缺少有效的安全令牌（CSRF）"]
    assert _log_count(app) == (before[0], before[1] + 3)
    # a connection without a token is refused (and logged) too
    client, _ = _signed_in(app, "admin", page="/admin/")
    sio = socketio.test_client(app, namespace=NS, flask_test_client=client, auth={"final": final["id"]})
    assert not sio.is_connected(NS)
    assert _log_count(app) == (before[0], before[1] + 4)


def test_only_organizers_teams_and_screens_connect(app, build, final):
    build.participant("20269000")
    client, token = _signed_in(app, "20269000", page="/lobby")
    sio = socketio.test_client(app, namespace=NS, flask_test_client=client, auth={"csrf": token, "final": final["id"]})
    assert not sio.is_connected(NS)
    assert not socketio.test_client(app, namespace=NS, auth={"screen": "wrong-token"}).is_connected(NS)
    anonymous = app.test_client()
    assert anonymous.get(f"/screen/{final['token']}").status_code == 200
    assert anonymous.get("/screen/wrong-token").status_code == 404
    assert anonymous.get("/buzzer").status_code == 302  # to the login page


def test_a_host_step_reaches_screens_as_what_changed(app, final):
    """After the first step, a host step sends teams and screens only the keys that changed (never
    the answer before the reveal); folded onto the state before, it equals the whole state."""
    h, htoken = host(app, final)
    s = screen(app, final)
    for kind in ("begin", "open"):
        h.emit("act", {"csrf": htoken, "kind": kind, "data": {}}, namespace=NS)
    states(s)
    h.emit("act", {"csrf": htoken, "kind": "show", "data": {}}, namespace=NS)
    [message] = s.get_received(NS)
    assert message["name"] == "delta"
    delta = message["args"][0]
    assert {"seq", "now", "phase", "question"} <= set(delta) and not {"teams", "scores", "name"} & set(delta)
    assert delta["question"]["stem"] and "answer" not in delta["question"]
    folded = {**_LAST[id(s)], **delta}
    fresh = screen(app, final)
    whole = states(fresh)[-1]
    folded.pop("now"), whole.pop("now")
    assert folded == whole
