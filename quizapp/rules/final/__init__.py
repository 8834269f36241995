"""The on-stage 决赛 as a pure state machine: no Flask, no database, no clock of its own.

A final is a fixed list of teams and a run sheet of question slots (part + the team a
必答/风险 slot belongs to). Everything that happens is an `Event`; `apply(state, event)` returns
the next `State` or raises `IllegalTransition` (Chinese message) and leaves `state` untouched.
Replaying the accepted events from `initial(...)` always gives the same state, which is how a
server rebuilds a final after a restart.

Contracts the tests check:
- every team's score equals the base score plus the deltas of its `ledger` entries, and every
  entry names the accepted event (seq) that caused it;
- events are accepted only in order: `seq` must be the next number, and each kind only in the
  phases listed in PHASES_FOR;
- a press before 开始 (phase "shown") is a false start: the configured penalty, the team is
  locked out of this question and can never become the answering team;
- in a 加赛 only its teams score from questions (quizapp.rules.final.tiebreak says how its two
  modes, sudden-death 抢答 and extra 风险题, run and end).

Press order is by the server's receive time: (boot, monotonic ns). Presses of one boot compare
by the monotonic clock; a press from a later boot (after a restart) comes after every press of
an earlier one. Presses closer than `resolution_ns` to the first are a tie the host settles.

Modules: state (config, events, State), handlers (the regular steps), tiebreak (加赛),
machine (apply, replay, allowed), ranking.
"""
from .machine import allowed, apply, replay
from .ranking import ranking
from .state import (
    BUZZER_PARTS, DEFAULT_CONFIG, HOST_KINDS, KIND_LABELS, PARTS, PHASES_FOR, RISK_PARTS, TEAM_KINDS, TIEBREAK_MODES,
    TIEBREAK_PARTS, Event, IllegalTransition, Press, State, initial, merged_config,
)

__all__ = ["BUZZER_PARTS", "DEFAULT_CONFIG", "HOST_KINDS", "KIND_LABELS", "PARTS", "PHASES_FOR", "RISK_PARTS",
           "TEAM_KINDS", "TIEBREAK_MODES", "TIEBREAK_PARTS", "Event", "IllegalTransition", "Press", "State", "allowed",
           "apply", "initial", "merged_config", "ranking", "replay"]
