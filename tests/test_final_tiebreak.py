"""加赛 by extra 风险题 (quizapp.rules.final.tiebreak): hand cases, and hypothesis properties on
streams guided through a final whose regular parts ended in a three-way tie."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizapp.rules.final import PHASES_FOR, Event, IllegalTransition, allowed, apply, initial, ranking, replay

TEAMS = [11, 12, 13]
REGULAR = ([{"part": "required", "team": t} for t in TEAMS] + [{"part": "buzzer", "team": None}]
           + [{"part": "risk", "team": t} for t in TEAMS])
SLOTS = REGULAR + [{"part": "tiebreak", "team": None}] * 2 + [{"part": "tiebreak_risk", "team": None}] * 4


class Host:
    def __init__(self, config=None, slots=SLOTS):
        self.start = initial(config, TEAMS, slots)
        self.state = self.start
        self.events: list[Event] = []

    def __call__(self, kind, **data):
        mono = 10_000_000 + self.state.seq * 3_000_000 if kind == "press" else None
        event = Event(kind, data, self.state.seq + 1, 1_700_000_000_000 + self.state.seq * 1000, mono, "b1")
        self.state = apply(self.state, event)
        self.events.append(event)
        return self.state

    def play_regular(self, risk=((11, 10, False), (12, 20, True), (13, 20, True))):
        """必答: all right; the 抢答 voided; 风险 as given. Defaults leave 12 and 13 tied at 130, 11 at 110."""
        self("begin")
        for _ in TEAMS:
            self("open"); self("show"); self("judge", correct=True); self("reveal")
        self("open"); self("show"); self("start"); self("void"); self("reveal")
        for team, value, correct in risk:
            self("open"); self("choose", team=team, value=value); self("show"); self("judge", correct=correct)
            self("reveal")

    def turn(self, team, value, correct):
        self("open")
        assert self.state.turn == team and self.state.part == "tiebreak_risk"
        self("choose", team=team, value=value); self("show")
        assert self.state.answering == team
        self("judge", correct=correct); self("reveal")


def test_a_risk_tiebreak_plays_rounds_between_the_tied_teams_until_the_tie_is_broken():
    host = Host()
    host.play_regular()
    assert host.state.scores == {11: 100, 12: 130, 13: 130}
    with pytest.raises(IllegalTransition, match="没有这种加赛方式"):
        host("tiebreak", teams=[13, 12], mode="slow")
    host("tiebreak", teams=[13, 12], mode="risk")
    assert host.state.tiebreak_round == [12, 13] and host.state.tiebreak_rounds == 1  # the final's team order
    # round 1: 12 first; only 12 may choose, nobody may press, 13 waits its turn
    host("open")
    assert host.state.turn == 12 and host.state.slot == 9  # the first 加赛风险题 slot, after both 抢答 加赛 slots
    for kind, data, message in (("choose", {"team": 13, "value": 10}, "不是该队的风险题"),
                                ("choose", {"team": 11, "value": 10}, "不是该队的风险题"),
                                ("show", {}, "请先由答题队伍选择分值"),
                                ("press", {"team": 12}, "当前环节不能抢答")):
        with pytest.raises(IllegalTransition, match=message):
            host(kind, **data)
    host("choose", team=12, value=20); host("show")
    with pytest.raises(IllegalTransition, match="本题不是抢答题"):
        host("press", team=11)
    host("judge", correct=True); host("reveal")
    assert host.state.tiebreak_played == [12]
    for kind, data in (("finish", {}), ("tiebreak", {"teams": [12, 13], "mode": "buzzer"})):
        with pytest.raises(IllegalTransition, match="还有队伍未答题"):  # a round is played to its end
            host(kind, **data)
    host.turn(13, 20, True)
    # still 150 : 150 → round 2 with the same two teams
    assert host.state.tiebreak_rounds == 2 and host.state.tiebreak_played == [] and host.state.tiebreak_outcome is None
    host.turn(12, 20, False)  # its second 20: two uses of a value per team in the 加赛
    host.turn(13, 10, True)
    assert host.state.tiebreak_outcome == "decided"
    assert "open" not in allowed(host.state) and "finish" in allowed(host.state)
    with pytest.raises(IllegalTransition, match="加赛已分出胜负"):
        host("open")
    host("finish")
    assert ranking(host.state) == [(1, 13, 160), (2, 12, 130), (3, 11, 100)]
    # the regular 风险题 counted 12's and 13's first 20 apart: both could use 20 twice in the 加赛
    assert host.state.risk_used == {11: {10: 1}, 12: {20: 1}, 13: {20: 1}}
    assert host.state.tiebreak_used == {12: {20: 2}, 13: {20: 1, 10: 1}}
    tiebreak_lines = [(t, d, w) for s, t, d, w in host.state.ledger if "加赛" in w]
    assert tiebreak_lines == [(12, 20, "加赛风险题答对"), (13, 20, "加赛风险题答对"), (12, -20, "加赛风险题答错"),
                              (13, 10, "加赛风险题答对")]
    assert repr(replay(host.start, host.events)) == repr(host.state)


def test_a_team_ranked_apart_sits_out_the_next_round():
    host = Host(slots=REGULAR + [{"part": "tiebreak_risk", "team": None}] * 6)
    host.play_regular(risk=((11, 10, True), (12, 10, True), (13, 10, True)))  # all three at 120
    host("tiebreak", teams=[11, 12, 13], mode="risk")
    host.turn(11, 20, True); host.turn(12, 20, True); host.turn(13, 10, False)
    assert host.state.tiebreak_round == [11, 12] and host.state.tiebreak_rounds == 2
    host("open")
    with pytest.raises(IllegalTransition, match="不是该队的风险题"):
        host("choose", team=13, value=10)
    assert host.state.turn == 11


def test_a_risk_tiebreak_ends_unbroken_when_its_questions_run_out_and_a_buzzer_tiebreak_may_follow():
    host = Host(config={"tiebreak_risk": {"count": 2}},
                slots=REGULAR + [{"part": "tiebreak", "team": None}, {"part": "tiebreak_risk", "team": None},
                                 {"part": "tiebreak_risk", "team": None}])
    host.play_regular()
    host("tiebreak", teams=[12, 13], mode="risk")
    host.turn(12, 10, True); host.turn(13, 10, True)
    assert host.state.tiebreak_outcome == "exhausted"
    with pytest.raises(IllegalTransition, match="仍有队伍同分"):
        host("open")
    host("tiebreak", teams=[12, 13], mode="buzzer")  # the 抢答 加赛 slot left
    host("open")
    assert host.state.part == "tiebreak" and host.state.turn is None
    host("show"); host("start"); host("press", team=13); host("judge", correct=True); host("reveal"); host("finish")
    assert ranking(host.state)[0] == (1, 13, 150)


def test_a_risk_tiebreak_needs_a_slot_for_every_tied_team():
    host = Host(slots=REGULAR + [{"part": "tiebreak_risk", "team": None}])
    host.play_regular()
    with pytest.raises(IllegalTransition, match="加赛风险题不足：2 支队伍一轮需要 2 道，剩余 1 道"):
        host("tiebreak", teams=[12, 13], mode="risk")
    with pytest.raises(IllegalTransition, match="没有剩余的加赛题"):
        host("tiebreak", teams=[12, 13], mode="buzzer")


def test_a_tiebreak_without_a_mode_is_the_buzzer_one():
    """Event logs written before 加赛 had modes replay as they did."""
    host = Host()
    host.play_regular()
    host("tiebreak", teams=[12, 13])
    assert host.state.tiebreak_mode == "buzzer"
    host("open")
    assert host.state.part == "tiebreak"


def test_values_run_out_before_a_round_and_the_tiebreak_ends():
    host = Host(config={"tiebreak_risk": {"values": [10, 20], "uses_per_value": 1}},
                slots=REGULAR + [{"part": "tiebreak_risk", "team": None}] * 6)
    host.play_regular()
    host("tiebreak", teams=[12, 13], mode="risk")
    host.turn(12, 10, True); host.turn(13, 10, True)
    host("open")
    with pytest.raises(IllegalTransition, match="10 分的风险题已用完"):
        host("choose", team=12, value=10)
    host("choose", team=12, value=20); host("show"); host("judge", correct=True); host("reveal")
    host.turn(13, 20, True)
    assert host.state.tiebreak_outcome == "exhausted"  # 2 slots left, but no value left
    with pytest.raises(IllegalTransition, match="分值已用完"):
        host("tiebreak", teams=[12, 13], mode="risk")


# Properties: the regular parts end in a three-way tie (all at 120); then streams of events,
# mostly of kinds the current phase accepts, with random teams, values, verdicts, subsets and modes.
VALUES = [10, 20, 30, 15]
PROPERTY_SLOTS = REGULAR + [{"part": "tiebreak", "team": None}] * 2 + [{"part": "tiebreak_risk", "team": None}] * 7


def _tied_start() -> tuple[object, list[Event]]:
    host = Host(slots=PROPERTY_SLOTS)
    host.play_regular(risk=((11, 10, True), (12, 10, True), (13, 10, True)))
    return host.state, host.events


def _likely(state) -> list[str]:
    """Kinds the host's buttons allow now, plus the team's and the 加赛's, so streams get far."""
    kinds = allowed(state) + ["adjust"]
    if state.phase == "announced" and state.value is None:
        kinds += ["choose"] * 3
    if state.phase in ("shown", "open", "answering"):
        kinds += ["press"] * 2
    if state.phase in ("idle", "revealed") and (state.tiebreak is None or state.tiebreak_outcome):
        kinds += ["tiebreak"]
    return kinds


def _event_data(draw, kind, state):
    team = draw(st.sampled_from(TEAMS + [99]))
    if kind == "tiebreak":
        teams = draw(st.lists(st.sampled_from(TEAMS), min_size=2, max_size=3, unique=True))
        return {"teams": teams, "mode": draw(st.sampled_from(["risk", "risk", "risk", "buzzer", "x"]))}
    return {"press": {"team": team}, "choose": {"team": draw(st.sampled_from([state.turn or 99] * 3 + TEAMS)), "value": draw(st.sampled_from(VALUES))},
            "judge": {"correct": draw(st.booleans())}, "settle": {"team": team},
            "adjust": {"team": team, "delta": draw(st.sampled_from([-10, 10])), "reason": "复核"},
            "answer": {"team": team, "response": "A"}}.get(kind, {})


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_properties_hold_through_tiebreaks(data):
    start, prefix = _tied_start()
    state, accepted, mono = start, list(prefix), 0
    for _ in range(data.draw(st.integers(10, 120))):
        kind = data.draw(st.sampled_from(_likely(state)) if data.draw(st.integers(0, 9)) else st.sampled_from(sorted(PHASES_FOR)))
        mono += data.draw(st.integers(0, 8_000_000))
        event = Event(kind, _event_data(data.draw, kind, state), state.seq + 1, 1000 * state.seq,
                      mono if kind == "press" else None, "b1")
        snapshot = repr(state)
        try:
            after = apply(state, event)
        except IllegalTransition:
            assert repr(state) == snapshot
            continue
        assert repr(state) == snapshot  # apply never mutates its input
        _check_step(state, event, after)
        accepted.append(event)
        state = after
    for team in TEAMS:
        assert state.scores[team] == 100 + sum(d for _, t, d, _ in state.ledger if t == team)
    assert repr(replay(initial(None, TEAMS, PROPERTY_SLOTS), accepted)) == repr(state)


def _check_step(before, event, after):
    assert before.phase in PHASES_FOR[event.kind]
    moved = {t for t in TEAMS if after.scores[t] != before.scores[t]}
    if event.kind in ("judge", "press") and after.tiebreak is not None:
        assert moved <= set(after.tiebreak)  # only the tied teams score in a 加赛
    if event.kind == "press" and before.phase == "shown":  # a press before 开始 never wins
        team = event.data["team"]
        assert team in after.locked and after.answering != team and team not in after.tied
    if event.kind == "judge" and before.part == "tiebreak_risk":
        team = before.answering
        assert team == before.turn and team in before.tiebreak_round
        assert after.scores[team] - before.scores[team] == (before.value if event.data["correct"] else -before.value)
        assert before.value in after.config["tiebreak_risk"]["values"]
    if event.kind == "open" and after.part == "tiebreak_risk":
        assert after.tiebreak_mode == "risk" and after.turn in after.tiebreak_round
        assert after.turn not in before.tiebreak_played  # one question per team per round
    if event.kind == "choose":
        assert event.data["team"] == before.turn
    if event.kind == "finish" or (event.kind == "tiebreak" and before.tiebreak_mode == "risk"):
        # never in the middle of a round
        assert not (before.tiebreak_mode == "risk" and before.tiebreak_outcome is None and before.tiebreak_played)
    if event.kind == "reveal" and after.tiebreak_outcome == "decided" and before.tiebreak_outcome is None:
        scores = [after.scores[t] for t in after.tiebreak]
        assert len(set(scores)) == len(scores)
    if after.tiebreak_mode == "risk":
        assert set(after.tiebreak_played) <= set(after.tiebreak_round) <= set(after.tiebreak)
        assert len(set(after.tiebreak_played)) == len(after.tiebreak_played)
        for team, used in after.tiebreak_used.items():
            assert all(n <= after.config["tiebreak_risk"]["uses_per_value"] for n in used.values())
