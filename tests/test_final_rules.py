"""quizapp.rules.final: the on-stage final as a pure state machine (examples and hypothesis properties)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizapp.rules.final import (
    HOST_KINDS, PHASES_FOR, Event, IllegalTransition, allowed, apply, initial, ranking, replay,
)

TEAMS = [11, 12, 13]
SLOTS = ([{"part": "required", "team": t} for t in TEAMS] + [{"part": "buzzer", "team": None}] * 2
         + [{"part": "risk", "team": t} for t in TEAMS] + [{"part": "tiebreak", "team": None}] * 2
         + [{"part": "tiebreak_risk", "team": None}] * 2)


class Host:
    """Feeds events with consecutive seq numbers and a fake server clock."""

    def __init__(self, config=None, slots=SLOTS):
        self.state = initial(config, TEAMS, slots)
        self.events: list[Event] = []
        self.mono = 10_000_000

    def __call__(self, kind, mono_gap_ns=None, boot="b1", **data):
        mono = None
        if kind == "press":
            self.mono += mono_gap_ns if mono_gap_ns is not None else 3_000_000
            mono = self.mono
        event = Event(kind, data, self.state.seq + 1, 1_700_000_000_000 + self.state.seq * 1000, mono, boot)
        self.state = apply(self.state, event)
        self.events.append(event)
        return self.state


def test_a_whole_final_scores_every_part():
    host = Host()
    host("begin")
    for team, correct in zip(TEAMS, (True, False, True)):
        host("open"); host("show")
        assert host.state.answering == team and host.state.timer["seconds"] == 30
        host("judge", correct=correct); host("reveal")
    # 抢答: 13 presses before 开始 (false start), 12 wins and is wrong, 11 answers next and is right.
    host("open"); host("show"); host("press", team=13)
    assert host.state.locked == [13] and host.state.scores[13] == 100 + 10 - 10
    host("start"); host("press", team=12); host("press", team=11)
    assert host.state.answering == 12
    with pytest.raises(IllegalTransition, match="已被取消抢答资格"):
        host("press", team=13)
    host("judge", correct=False)
    assert host.state.answering == 11 and host.state.phase == "answering"
    host("judge", correct=True); host("reveal")
    host("open"); host("show"); host("start"); host("void"); host("reveal")  # nobody pressed
    for team, value, correct in ((11, 30, False), (12, 20, True), (13, 10, True)):
        host("open")
        with pytest.raises(IllegalTransition, match="请先由答题队伍选择分值"):
            host("show")
        host("choose", team=team, value=value); host("show"); host("judge", correct=correct); host("reveal")
    assert host.state.scores == {11: 100 + 10 + 10 - 30, 12: 100 - 10 + 20, 13: 100 + 10 - 10 + 10}
    assert ranking(host.state) == [(1, 12, 110), (1, 13, 110), (3, 11, 90)]
    with pytest.raises(IllegalTransition, match="只有同分的队伍才能加赛"):
        host("tiebreak", teams=[11, 12])
    host("tiebreak", teams=[12, 13])
    host("open"); host("show"); host("start")
    with pytest.raises(IllegalTransition, match="不参加本次加赛"):
        host("press", team=11)
    host("press", team=13); host("judge", correct=True); host("reveal"); host("finish")
    assert ranking(host.state)[0] == (1, 13, 120) and host.state.status == "finished"
    assert replay(initial(None, TEAMS, SLOTS), host.events).scores == host.state.scores


def test_press_order_is_by_monotonic_time_and_ties_wait_for_the_host():
    host = Host(config={"resolution_ns": 1000})
    host("begin")
    for _ in range(3):
        host("open"); host("show"); host("judge", correct=True); host("reveal")
    host("open"); host("show"); host("start")
    host("press", team=12, mono_gap_ns=5_000_000)
    # written later but received 2 ms earlier (another thread): it wins the turn
    host("press", team=11, mono_gap_ns=-2_000_000)
    assert host.state.answering == 11 and [p.team for p in host.state.valid_presses()] == [11, 12]
    host("press", team=13, mono_gap_ns=500)  # 500 ns after 11's: a tie
    assert host.state.answering is None and sorted(host.state.tied) == [11, 13]
    with pytest.raises(IllegalTransition, match="不在并列"):
        host("settle", team=12)
    host("settle", team=13)
    assert host.state.answering == 13


def test_a_press_from_a_later_boot_comes_after_every_press_of_the_earlier_one():
    host = Host(slots=[{"part": "buzzer", "team": None}])
    host("begin"); host("open"); host("show"); host("start")
    host("press", team=12, mono_gap_ns=9_000_000_000, boot="b1")
    host("press", team=11, mono_gap_ns=-9_000_000_000 + 1, boot="b2")  # smaller clock after a reboot
    assert [p.team for p in host.state.valid_presses()] == [12, 11]


@pytest.mark.parametrize("kind, data, message", [
    ("adjust", {"team": 11, "delta": 5, "reason": "  "}, "必须填写理由"),
    ("adjust", {"team": 99, "delta": 5, "reason": "x"}, "没有这支队伍"),
    ("adjust", {"team": 11, "delta": True, "reason": "x"}, "非零整数"),
    ("reveal", {}, "当前环节不能公布答案"),
    ("start", {}, "当前环节不能开始抢答"),
    ("open", {"slot": 2}, "请按顺序进行"),
    ("finish", {}, "还有题目未进行"),
])
def test_refused_events_say_why_and_change_nothing(kind, data, message):
    host = Host()
    host("begin")
    before = host.state
    with pytest.raises(IllegalTransition, match=message):
        host(kind, **data)
    assert host.state is before and host.state.seq == 1


def test_seq_must_be_the_next_number():
    state = initial(None, TEAMS, SLOTS)
    with pytest.raises(IllegalTransition, match="事件顺序错误"):
        apply(state, Event("begin", {}, 2, 0))
    assert apply(state, Event("begin", {}, 1, 0)).status == "running"


def test_allowed_lists_the_host_buttons():
    host = Host()
    assert allowed(host.state) == ["begin"]
    host("begin"); host("open")
    assert allowed(host.state) == ["show"]


# Property tests: random event streams, most of them illegal, fed through `apply`.
KINDS = sorted(PHASES_FOR)
event_specs = st.tuples(
    st.sampled_from(KINDS), st.sampled_from(TEAMS + [99]), st.booleans(), st.sampled_from([10, 20, 30, 15]),
    st.integers(-40, 40), st.sampled_from(["", "裁判组复核", " "]), st.integers(0, 8_000_000))


def _data(kind, team, flag, value, delta, reason):
    return {"press": {"team": team}, "choose": {"team": team, "value": value}, "judge": {"correct": flag},
            "adjust": {"team": team, "delta": delta, "reason": reason}, "settle": {"team": team},
            "answer": {"team": team, "response": "A"},
            "tiebreak": {"teams": [team, TEAMS[0]] if flag else TEAMS[1:],
                         "mode": "risk" if delta % 2 else "buzzer"}}.get(kind, {})


def _run(specs, config=None):
    """Feed the specs (begin forced first often enough to get somewhere); returns the log of
    (state before, event, state after or None when refused)."""
    state = initial(config, TEAMS, SLOTS)
    log, mono, seq = [], 0, 0
    for kind, team, flag, value, delta, reason, gap in specs:
        mono += gap
        event = Event(kind, _data(kind, team, flag, value, delta, reason), state.seq + 1, 1000 * seq,
                      mono if kind == "press" else None, "b1")
        seq += 1
        snapshot = repr(state)
        try:
            after = apply(state, event)
        except IllegalTransition:
            assert repr(state) == snapshot  # a refusal changes nothing
            log.append((state, event, None))
            continue
        assert repr(state) == snapshot  # apply never mutates its input
        log.append((state, event, after))
        state = after
    return state, log


streams = st.lists(event_specs, min_size=1, max_size=120).map(
    lambda specs: [("begin", 11, True, 10, 0, "", 0)] + specs)


@settings(max_examples=200, deadline=None)
@given(streams)
def test_every_score_is_the_base_plus_the_deltas_of_its_events(specs):
    state, log = _run(specs)
    accepted = {event.seq: event for _, event, after in log if after is not None}
    for team in TEAMS:
        assert state.scores[team] == 100 + sum(d for _, t, d, _ in state.ledger if t == team)
    for seq, team, delta, _ in state.ledger:
        assert accepted[seq].kind in ("press", "judge", "adjust")
    # and rebuilding from the accepted events gives the same state
    assert repr(replay(initial(None, TEAMS, SLOTS), accepted.values())) == repr(state)


@settings(max_examples=200, deadline=None)
@given(streams)
def test_no_event_is_accepted_out_of_its_phase(specs):
    _, log = _run(specs)
    for before, event, after in log:
        if after is None:
            continue
        assert before.phase in PHASES_FOR[event.kind]
        assert event.kind == "begin" or before.status == "running"
        if event.kind == "reveal":
            assert before.result in ("right", "wrong", "void")  # judged (or voided) before revealed
        if event.kind == "open":
            assert before.phase in ("idle", "revealed")


@settings(max_examples=200, deadline=None)
@given(streams)
def test_a_press_before_start_never_wins(specs):
    _, log = _run(specs)
    for before, event, after in log:
        if after is None or event.kind != "press":
            continue
        if before.phase == "shown":  # before 开始
            team = event.data["team"]
            assert team in after.locked and after.answering != team and team not in after.tied
            assert after.scores[team] == before.scores[team] - 10
    for before, event, after in log:
        if after is not None and event.kind == "judge":
            early = {p.team for p in before.presses if p.false_start}
            assert before.answering not in early


def test_host_kinds_are_known():
    assert set(HOST_KINDS) <= set(PHASES_FOR)
