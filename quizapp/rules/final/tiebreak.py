"""加赛: a tie-break between exactly the tied teams, in one of two modes the host chooses when
starting it (the `tiebreak` event's data: {"teams": [...], "mode": "buzzer" | "risk"}; a log
written before there were modes has no "mode": 抢答).

抢答 (sudden death): the 加赛 uses the run sheet's "tiebreak" slots; they are played like 抢答题
in which only the tied teams may press. The host decides when it is over (结束决赛 or another 加赛).

风险题: the 加赛 uses the "tiebreak_risk" slots, in rounds. In a round every team of the round has
one 加赛风险题, in the final's team order (run-sheet order): the team chooses a value (config
"tiebreak_risk": values, uses_per_value — per team over all its 加赛, counted apart from the
regular 风险题) before its question is shown; right adds the value, wrong subtracts it. Only the
teams of the round take part. When the last team of a round has had its answer revealed:
- no two teams of the 加赛 share a score any more → the 加赛 is decided ("decided");
- else the next round is played by the teams of the 加赛 that still share a score with another
  of them (a team already ranked apart sits out, and comes back only if others fall back onto
  its score) — when enough slots are left for each of them and each has a value left;
- else it ends with the tie unbroken ("exhausted"): the host may start a 抢答 加赛 on the
  "tiebreak" slots left, or adjust scores with a reason.
A round, once begun, is played to its end: no new 加赛 and no 结束决赛 in the middle of one
(every team of the round gets its question, so nobody is ranked on fewer turns).
"""
from __future__ import annotations

from .state import TIEBREAK_MODES, IllegalTransition, State


def start(state: State, event, data: dict) -> None:
    """The `tiebreak` event: validates the teams (at least two, distinct, of this final, on equal
    scores, the regular parts done) and that the chosen mode has what it needs."""
    teams, mode = data.get("teams"), data.get("mode", "buzzer")
    if mode not in TIEBREAK_MODES:
        raise IllegalTransition("没有这种加赛方式")
    if round_under_way(state):
        raise IllegalTransition("本轮风险题加赛还有队伍未答题")
    if not isinstance(teams, list) or len(teams) < 2 or len(set(map(repr, teams))) != len(teams):
        raise IllegalTransition("加赛需要至少两支不同的队伍")
    for team in teams:
        if not isinstance(team, int) or isinstance(team, bool) or team not in state.teams:
            raise IllegalTransition("没有这支队伍")
    if any(s["part"] not in ("tiebreak", "tiebreak_risk") and i not in state.done for i, s in enumerate(state.slots)):
        raise IllegalTransition("常规环节结束后才能加赛")
    if len({state.scores[t] for t in teams}) != 1:
        raise IllegalTransition("只有同分的队伍才能加赛")
    if mode == "buzzer":
        if not state.slots_left("tiebreak"):
            raise IllegalTransition("没有剩余的加赛题")
    else:
        left = state.slots_left("tiebreak_risk")
        if left < len(teams):
            raise IllegalTransition(f"加赛风险题不足：{len(teams)} 支队伍一轮需要 {len(teams)} 道，剩余 {left} 道")
        if any(not state.values_left(t, "tiebreak_risk") for t in teams):
            raise IllegalTransition("有队伍的加赛风险分值已用完")
    state.tiebreak, state.tiebreak_mode, state.tiebreak_outcome = list(teams), mode, None
    state.tiebreak_round = [t for t in state.teams if t in teams] if mode == "risk" else []
    state.tiebreak_played, state.tiebreak_rounds = [], 1 if mode == "risk" else 0
    state.phase, state.slot, state.turn, state.value = "idle", None, None, None
    state.presses, state.locked, state.tied, state.answering, state.result, state.timer = [], [], [], None, None, None


def round_under_way(state: State) -> bool:
    """A 风险 round has begun (a team of it has had its turn) and not every team of it has."""
    return (state.tiebreak is not None and state.tiebreak_mode == "risk" and state.tiebreak_outcome is None
            and bool(state.tiebreak_played))


def check_can_open(state: State) -> None:
    if state.tiebreak_outcome == "decided":
        raise IllegalTransition("加赛已分出胜负")
    if state.tiebreak_outcome == "exhausted":
        raise IllegalTransition("加赛风险题或分值已用完，仍有队伍同分")


def next_turn(state: State) -> int:
    """The team whose 加赛风险题 comes next in this round."""
    return next(t for t in state.tiebreak_round if t not in state.tiebreak_played)


def still_tied(state: State) -> list[int]:
    """The teams of the 加赛 that share a score with another of them, in the final's team order."""
    scores = [state.scores[t] for t in state.tiebreak]
    return [t for t in state.teams if t in state.tiebreak and scores.count(state.scores[t]) > 1]


def after_turn(state: State) -> None:
    """A 加赛风险题 has been revealed: the turn is played; at the end of a round, decide what follows."""
    state.tiebreak_played.append(state.turn)
    if any(t not in state.tiebreak_played for t in state.tiebreak_round):
        return
    tied = still_tied(state)
    if not tied:
        state.tiebreak_outcome = "decided"
    elif state.slots_left("tiebreak_risk") < len(tied) or any(not state.values_left(t, "tiebreak_risk") for t in tied):
        state.tiebreak_outcome = "exhausted"
    else:
        state.tiebreak_round, state.tiebreak_played = tied, []
        state.tiebreak_rounds += 1


def check_can_finish(state: State) -> None:
    if round_under_way(state):
        raise IllegalTransition("本轮风险题加赛还有队伍未答题")
