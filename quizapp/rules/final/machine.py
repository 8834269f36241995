"""apply / replay: the one way a final's state changes."""
from __future__ import annotations

import copy

from .handlers import HANDLERS
from .state import KIND_LABELS, PHASES_FOR, Event, IllegalTransition, State


def apply(state: State, event: Event) -> State:
    """The state after `event`; raises IllegalTransition, leaving `state` as it was."""
    if event.seq != state.seq + 1:
        raise IllegalTransition(f"事件顺序错误：应为第 {state.seq + 1} 号，收到第 {event.seq} 号")
    handler = HANDLERS.get(event.kind)
    if handler is None:
        raise IllegalTransition("未知的操作")
    if state.status == "finished":
        raise IllegalTransition("决赛已结束")
    if event.kind != "begin" and state.status != "running":
        raise IllegalTransition("决赛尚未开始")
    if state.phase not in PHASES_FOR[event.kind]:
        raise IllegalTransition(f"当前环节不能{KIND_LABELS[event.kind]}")
    new = _clone(state)
    handler(new, event, event.data or {})
    new.seq = event.seq
    return new


def _clone(state: State) -> State:
    """A copy the handlers may change: the mutable parts are copied, while config, teams and
    slots (never changed after `initial`) and Press records (never changed once made) are
    shared — a deep copy of a long run sheet on every press would cost the big screens time."""
    new = copy.copy(state)
    new.scores, new.ledger, new.done = dict(state.scores), list(state.ledger), list(state.done)
    new.presses, new.locked, new.tried, new.tied = list(state.presses), list(state.locked), list(state.tried), list(state.tied)
    new.answers, new.boots = dict(state.answers), list(state.boots)
    new.timer = dict(state.timer) if state.timer else None
    new.tiebreak = list(state.tiebreak) if state.tiebreak is not None else None
    new.tiebreak_round, new.tiebreak_played = list(state.tiebreak_round), list(state.tiebreak_played)
    new.risk_used = {team: dict(used) for team, used in state.risk_used.items()}
    new.tiebreak_used = {team: dict(used) for team, used in state.tiebreak_used.items()}
    return new


def replay(start: State, events) -> State:
    state = start
    for event in events:
        state = apply(state, event)
    return state


def allowed(state: State) -> list[str]:
    """The host's buttons that would be accepted now (those whose data the host need not choose)."""
    probes = {"begin": {}, "open": {}, "show": {}, "start": {}, "judge": {"correct": True}, "void": {},
              "reveal": {}, "finish": {}}
    kinds = []
    for kind, data in probes.items():
        try:
            apply(state, Event(kind, data, state.seq + 1, 0))
        except IllegalTransition:
            continue
        kinds.append(kind)
    return kinds
