"""The final's data: configuration, events, presses and the State the handlers change.

Nothing here decides a transition (quizapp.rules.final.machine does); this module says what a
final is made of, what each part's defaults are, and in which phases each kind of event may
come. Times (`at`) are the server's wall clock in ms since the epoch; timers are (start, seconds).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

PARTS = {"required": "必答题", "buzzer": "抢答题", "risk": "风险题", "tiebreak": "加赛题",
         "tiebreak_risk": "加赛风险题"}
BUZZER_PARTS = ("buzzer", "tiebreak")  # a team wins the right to answer by pressing
RISK_PARTS = ("risk", "tiebreak_risk")  # the team chooses a value before it sees the question
TIEBREAK_PARTS = {"buzzer": "tiebreak", "risk": "tiebreak_risk"}  # 加赛 mode → the slots it uses
TIEBREAK_MODES = {"buzzer": "抢答加赛", "risk": "风险题加赛"}
DEFAULT_CONFIG = {
    "base_score": 100,
    "required": {"count_per_team": 2, "points": 10, "wrong_points": 0, "seconds": 30, "on_device": False},
    "buzzer": {"count": 4, "points": 10, "wrong_points": 10, "false_start_penalty": 10, "press_seconds": 20,
               "answer_seconds": 20, "pass_on": True},
    "risk": {"count_per_team": 1, "values": [10, 20, 30], "uses_per_value": 1, "seconds": 60},
    "tiebreak": {"count": 3, "points": 10, "wrong_points": 0, "false_start_penalty": 0, "press_seconds": 20,
                 "answer_seconds": 20, "pass_on": False},
    # 加赛 by extra 风险题: `count` reserved slots (two rounds of two tied teams); the values and how
    # often each may be used by one team over all its 加赛 (counted apart from the regular 风险题).
    "tiebreak_risk": {"count": 4, "values": [10, 20, 30], "uses_per_value": 2, "seconds": 60},
    "resolution_ns": 1000,
}
# The phases of the current question in which each kind of event is accepted.
PHASES_FOR = {
    "begin": ("idle",), "open": ("idle", "revealed"), "choose": ("announced",), "show": ("announced",),
    "start": ("shown",), "press": ("shown", "open", "answering"), "answer": ("shown", "answering"),
    "settle": ("answering",), "judge": ("shown", "answering"), "void": ("open",), "reveal": ("judged",),
    "adjust": ("idle", "announced", "shown", "open", "answering", "judged", "revealed"),
    "tiebreak": ("idle", "revealed"), "finish": ("idle", "revealed"),
}
HOST_KINDS = ("begin", "open", "choose", "show", "start", "settle", "judge", "void", "reveal", "adjust",
              "tiebreak", "finish")
TEAM_KINDS = ("press", "choose", "answer")
KIND_LABELS = {"begin": "开始决赛", "open": "进入下一题", "choose": "选择分值", "show": "出示题目", "start": "开始抢答",
               "press": "抢答", "answer": "提交答案", "settle": "裁定并列", "judge": "判定对错", "void": "作废本题",
               "reveal": "公布答案", "adjust": "调整分数", "tiebreak": "开始加赛", "finish": "结束决赛"}


class IllegalTransition(ValueError):
    """The event is not allowed now; the message (Chinese) says why."""


@dataclass(frozen=True)
class Event:
    kind: str
    data: dict
    seq: int
    at: int  # server wall clock, ms since the epoch
    mono_ns: int | None = None  # server monotonic clock at receipt (presses)
    boot: str = ""  # which boot of the machine `mono_ns` belongs to


@dataclass
class Press:
    team: int
    seq: int
    at: int
    order: tuple[int, int]  # (boot rank, monotonic ns): the fairness key
    false_start: bool


@dataclass
class State:
    config: dict
    teams: list[int]
    slots: list[dict]  # {"part": ..., "team": id or None}
    status: str = "ready"  # ready → running → finished
    seq: int = 0
    scores: dict[int, int] = field(default_factory=dict)
    ledger: list[tuple[int, int, int, str]] = field(default_factory=list)  # (seq, team, delta, why)
    done: list[int] = field(default_factory=list)
    slot: int | None = None
    phase: str = "idle"
    turn: int | None = None  # the team this question belongs to (必答, 风险, 加赛风险题); None for 抢答
    value: int | None = None
    presses: list[Press] = field(default_factory=list)
    locked: list[int] = field(default_factory=list)
    tried: list[int] = field(default_factory=list)
    answering: int | None = None
    tied: list[int] = field(default_factory=list)
    settled: bool = False  # the host settled a tie: later presses do not reopen it
    answers: dict[int, object] = field(default_factory=dict)
    result: str | None = None  # "right" / "wrong" / "void"
    timer: dict | None = None  # {"kind", "started_at", "seconds"}
    tiebreak: list[int] | None = None  # the teams of the 加赛 under way
    tiebreak_mode: str | None = None  # "buzzer" / "risk" (TIEBREAK_MODES)
    tiebreak_round: list[int] = field(default_factory=list)  # 风险 mode: this round's teams, in turn order
    tiebreak_played: list[int] = field(default_factory=list)  # 风险 mode: those who had their turn this round
    tiebreak_rounds: int = 0  # 风险 mode: the number of the current round
    tiebreak_outcome: str | None = None  # 风险 mode, once over: "decided" or "exhausted"
    risk_used: dict[int, dict[int, int]] = field(default_factory=dict)
    tiebreak_used: dict[int, dict[int, int]] = field(default_factory=dict)  # 加赛风险题 values used
    boots: list[str] = field(default_factory=list)

    @property
    def part(self) -> str | None:
        return self.slots[self.slot]["part"] if self.slot is not None else None

    def part_config(self, part: str | None = None) -> dict:
        return self.config[part or self.part]

    def valid_presses(self) -> list[Press]:
        """Presses after 开始, in fairness order."""
        return sorted((p for p in self.presses if not p.false_start), key=lambda p: p.order)

    def next_slot(self) -> int | None:
        """The next slot of the run sheet: regular parts in order; in a 加赛 only the slots of its
        mode (抢答 → "tiebreak", 风险 → "tiebreak_risk")."""
        wanted = TIEBREAK_PARTS[self.tiebreak_mode or "buzzer"] if self.tiebreak is not None else None
        for index, slot in enumerate(self.slots):
            if index in self.done:
                continue
            if slot["part"] == wanted or (wanted is None and slot["part"] not in TIEBREAK_PARTS.values()):
                return index
        return None

    def slots_left(self, part: str) -> int:
        return sum(1 for i, s in enumerate(self.slots) if s["part"] == part and i not in self.done)

    def used_values(self, team: int, part: str) -> dict[int, int]:
        """How often `team` has used each value of `part` (a 风险 part); the dict is the state's own."""
        book = self.risk_used if part == "risk" else self.tiebreak_used
        return book.setdefault(team, {})

    def values_left(self, team: int, part: str) -> list[int]:
        settings, used = self.config[part], (self.risk_used if part == "risk" else self.tiebreak_used).get(team, {})
        return [v for v in settings["values"] if used.get(v, 0) < int(settings["uses_per_value"])]


def merged_config(config: dict | None) -> dict:
    """DEFAULT_CONFIG with `config`'s values laid over it, part by part. A final created before a
    part existed gets that part's defaults (its run sheet simply has no slots for it)."""
    merged = copy.deepcopy(DEFAULT_CONFIG)
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def initial(config: dict | None, teams: list[int], slots: list[dict]) -> State:
    config = merged_config(config)
    return State(config=config, teams=list(teams), slots=[dict(s) for s in slots],
                 scores={t: int(config["base_score"]) for t in teams})


def team_of(state: State, data: dict) -> int:
    """The event's team, which must be one of the final's; else IllegalTransition."""
    team = data.get("team")
    if not isinstance(team, int) or isinstance(team, bool) or team not in state.teams:
        raise IllegalTransition("没有这支队伍")
    return team


def change(state: State, event: Event, team: int, delta: int, why: str) -> None:
    """Change a score, and say which event did in the ledger (a zero change is not written)."""
    if delta:
        state.scores[team] += delta
        state.ledger.append((event.seq, team, delta, why))
