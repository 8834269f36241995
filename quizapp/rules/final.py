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
  locked out of this question and can never become the answering team.

Press order is by the server's receive time: (boot, monotonic ns). Presses of one boot compare
by the monotonic clock; a press from a later boot (after a restart) comes after every press of
an earlier one. Presses closer than `resolution_ns` to the first are a tie the host settles.
Times (`at`) are the server's wall clock in ms since the epoch; timers are (start, seconds).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

PARTS = {"required": "必答题", "buzzer": "抢答题", "risk": "风险题", "tiebreak": "加赛题"}
BUZZER_PARTS = ("buzzer", "tiebreak")
DEFAULT_CONFIG = {
    "base_score": 100,
    "required": {"count_per_team": 2, "points": 10, "wrong_points": 0, "seconds": 30, "on_device": False},
    "buzzer": {"count": 4, "points": 10, "wrong_points": 10, "false_start_penalty": 10, "press_seconds": 20,
               "answer_seconds": 20, "pass_on": True},
    "risk": {"count_per_team": 1, "values": [10, 20, 30], "uses_per_value": 1, "seconds": 60},
    "tiebreak": {"count": 3, "points": 10, "wrong_points": 0, "false_start_penalty": 0, "press_seconds": 20,
                 "answer_seconds": 20, "pass_on": False},
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
    tiebreak: list[int] | None = None
    risk_used: dict[int, dict[int, int]] = field(default_factory=dict)
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
        """The next slot of the run sheet: regular parts in order, tiebreak slots only in a tiebreak."""
        for index, slot in enumerate(self.slots):
            if index in self.done:
                continue
            if (slot["part"] == "tiebreak") == (self.tiebreak is not None):
                return index
        return None


def merged_config(config: dict | None) -> dict:
    """DEFAULT_CONFIG with `config`'s values laid over it, part by part."""
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


def apply(state: State, event: Event) -> State:
    """The state after `event`; raises IllegalTransition, leaving `state` as it was."""
    if event.seq != state.seq + 1:
        raise IllegalTransition(f"事件顺序错误：应为第 {state.seq + 1} 号，收到第 {event.seq} 号")
    handler = _HANDLERS.get(event.kind)
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
    new.risk_used = {team: dict(used) for team, used in state.risk_used.items()}
    return new


def replay(start: State, events) -> State:
    state = start
    for event in events:
        state = apply(state, event)
    return state


def _team(state: State, data: dict) -> int:
    team = data.get("team")
    if not isinstance(team, int) or isinstance(team, bool) or team not in state.teams:
        raise IllegalTransition("没有这支队伍")
    return team


def _change(state: State, event: Event, team: int, delta: int, why: str) -> None:
    if delta:
        state.scores[team] += delta
        state.ledger.append((event.seq, team, delta, why))


def _begin(state, event, data):
    if state.status != "ready":
        raise IllegalTransition("决赛已经开始")
    state.status = "running"


def _open(state, event, data):
    index = state.next_slot()
    if index is None:
        raise IllegalTransition("没有下一题了" if state.tiebreak is None else "加赛题已用完")
    if data.get("slot", index) != index:
        raise IllegalTransition(f"请按顺序进行：下一题是第 {index + 1} 题")
    state.slot, state.phase = index, "announced"
    state.value, state.presses, state.locked, state.tried = None, [], [], []
    state.answering, state.tied, state.answers, state.result, state.timer = None, [], {}, None, None
    state.settled = False


def _choose(state, event, data):
    if state.part != "risk":
        raise IllegalTransition("只有风险题需要选择分值")
    team = _team(state, data)
    if team != state.slots[state.slot]["team"]:
        raise IllegalTransition("本题不是该队的风险题")
    if state.value is not None:
        raise IllegalTransition("分值已选定")
    value = data.get("value")
    settings = state.part_config()
    if value not in settings["values"]:
        raise IllegalTransition("没有这个分值")
    used = state.risk_used.setdefault(team, {})
    if used.get(value, 0) >= settings["uses_per_value"]:
        raise IllegalTransition(f"{value} 分的风险题已用完")
    used[value] = used.get(value, 0) + 1
    state.value = value


def _show(state, event, data):
    if state.part == "risk" and state.value is None:
        raise IllegalTransition("请先由答题队伍选择分值")
    state.phase = "shown"
    if state.part not in BUZZER_PARTS:
        state.answering = state.slots[state.slot]["team"]
        state.timer = {"kind": "answer", "started_at": event.at, "seconds": state.part_config()["seconds"]}


def _start(state, event, data):
    if state.part not in BUZZER_PARTS:
        raise IllegalTransition("本题不是抢答题")
    state.phase = "open"
    state.timer = {"kind": "press", "started_at": event.at, "seconds": state.part_config()["press_seconds"]}


def _press(state, event, data):
    if state.part not in BUZZER_PARTS:
        raise IllegalTransition("本题不是抢答题")
    team = _team(state, data)
    if state.tiebreak is not None and team not in state.tiebreak:
        raise IllegalTransition("该队不参加本次加赛")
    if team in state.locked:
        raise IllegalTransition("该队本题已被取消抢答资格")
    if any(p.team == team for p in state.presses):
        raise IllegalTransition("该队已经抢答")
    if event.mono_ns is None:
        raise IllegalTransition("抢答缺少服务器时间")
    if event.boot not in state.boots:
        state.boots.append(event.boot)
    early = state.phase == "shown"
    state.presses.append(Press(team, event.seq, event.at, (state.boots.index(event.boot), event.mono_ns), early))
    if early:
        state.locked.append(team)
        _change(state, event, team, -int(state.part_config()["false_start_penalty"]), "抢答犯规")
        return
    if state.phase == "open":
        state.phase = "answering"
    _choose_answering(state, event)


def _choose_answering(state: State, event: Event) -> None:
    """The answering team: the earliest valid press not yet tried, or a tie for the host.
    Recomputed on every press (a press received earlier may be written a moment later), until
    the host settles a tie; the answer timer starts with the first press of the turn."""
    if state.settled:
        return
    group = _tie_group(state)
    if len(group) > 1:
        state.tied, state.answering = group, None
    elif group:
        state.tied, state.answering = [], group[0]
    if group and (state.timer is None or state.timer["kind"] != "answer"):
        state.timer = {"kind": "answer", "started_at": event.at, "seconds": state.part_config()["answer_seconds"]}


def _tie_group(state: State) -> list[int]:
    waiting = [p for p in state.valid_presses() if p.team not in state.tried]
    if not waiting:
        return []
    first = waiting[0].order
    resolution = int(state.config.get("resolution_ns", 1))
    return [p.team for p in waiting if p.order[0] == first[0] and p.order[1] - first[1] < resolution]


def _answer(state, event, data):
    team = _team(state, data)
    if state.part != "required" or not state.part_config()["on_device"]:
        raise IllegalTransition("本题不在设备上作答")
    if team != state.answering:
        raise IllegalTransition("本题不是该队作答")
    if team in state.answers:
        raise IllegalTransition("已经提交过答案")
    response = data.get("response")
    if not isinstance(response, (str, list, bool)) or len(str(response)) > 500:
        raise IllegalTransition("答案格式不正确")
    state.answers[team] = response


def _settle(state, event, data):
    team = _team(state, data)
    if team not in state.tied:
        raise IllegalTransition("该队不在并列抢答的队伍中")
    state.tied, state.answering, state.settled = [], team, True


def _judge(state, event, data):
    correct = data.get("correct")
    if not isinstance(correct, bool):
        raise IllegalTransition("请判定正确或错误")
    team = state.answering
    if team is None:
        raise IllegalTransition("还没有答题的队伍")
    settings = state.part_config()
    label = PARTS[state.part]
    if state.part == "risk":
        _change(state, event, team, state.value if correct else -state.value, f"{label}{'答对' if correct else '答错'}")
    else:
        _change(state, event, team, int(settings["points"]) if correct else -int(settings["wrong_points"]),
                f"{label}{'答对' if correct else '答错'}")
    state.tried.append(team)
    state.answering, state.settled, state.timer = None, False, None
    if not correct and state.part in BUZZER_PARTS and settings["pass_on"]:
        _choose_answering(state, event)
        if state.answering is not None or state.tied:
            return
    state.phase, state.result, state.timer = "judged", "right" if correct else "wrong", None


def _void(state, event, data):
    if state.valid_presses():
        raise IllegalTransition("已有队伍抢答，不能作废")
    state.phase, state.result, state.timer = "judged", "void", None


def _reveal(state, event, data):
    state.phase, state.timer = "revealed", None
    state.done.append(state.slot)


def _adjust(state, event, data):
    team = _team(state, data)
    delta, reason = data.get("delta"), data.get("reason")
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0 or abs(delta) > 1000:
        raise IllegalTransition("调整分值须为 -1000 到 1000 之间的非零整数")
    if not isinstance(reason, str) or not reason.strip():
        raise IllegalTransition("调整分数必须填写理由")
    _change(state, event, team, delta, f"主持人调整：{reason.strip()[:200]}")


def _tiebreak(state, event, data):
    teams = data.get("teams")
    if not isinstance(teams, list) or len(teams) < 2 or len(set(teams)) != len(teams):
        raise IllegalTransition("加赛需要至少两支不同的队伍")
    for team in teams:
        _team(state, {"team": team})
    if any(s["part"] != "tiebreak" and i not in state.done for i, s in enumerate(state.slots)):
        raise IllegalTransition("常规环节结束后才能加赛")
    if len({state.scores[t] for t in teams}) != 1:
        raise IllegalTransition("只有同分的队伍才能加赛")
    if not any(s["part"] == "tiebreak" and i not in state.done for i, s in enumerate(state.slots)):
        raise IllegalTransition("没有剩余的加赛题")
    state.tiebreak, state.phase, state.slot = list(teams), "idle", None


def _finish(state, event, data):
    if state.tiebreak is None and state.next_slot() is not None:
        raise IllegalTransition("还有题目未进行")
    state.status, state.tiebreak = "finished", None


_HANDLERS = {"begin": _begin, "open": _open, "choose": _choose, "show": _show, "start": _start, "press": _press,
             "answer": _answer, "settle": _settle, "judge": _judge, "void": _void, "reveal": _reveal,
             "adjust": _adjust, "tiebreak": _tiebreak, "finish": _finish}
KIND_LABELS = {"begin": "开始决赛", "open": "进入下一题", "choose": "选择分值", "show": "出示题目", "start": "开始抢答",
               "press": "抢答", "answer": "提交答案", "settle": "裁定并列", "judge": "判定对错", "void": "作废本题",
               "reveal": "公布答案", "adjust": "调整分数", "tiebreak": "开始加赛", "finish": "结束决赛"}


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


def ranking(state: State) -> list[tuple[int, int, int]]:
    """(rank, team, score), best first; equal scores share a rank (1, 1, 3)."""
    ordered = sorted(state.teams, key=lambda t: (-state.scores[t], state.teams.index(t)))
    rows, rank = [], 0
    for position, team in enumerate(ordered, start=1):
        if position == 1 or state.scores[team] != state.scores[ordered[position - 2]]:
            rank = position
        rows.append((rank, team, state.scores[team]))
    return rows
