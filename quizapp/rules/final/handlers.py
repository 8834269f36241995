"""The handlers of the final's regular steps. Each changes the State it is given (a copy the
machine made) or raises IllegalTransition before changing anything that matters: the machine
throws the copy away on a refusal. The phase a kind may come in is checked before (PHASES_FOR).
"""
from __future__ import annotations

from . import tiebreak
from .state import BUZZER_PARTS, PARTS, RISK_PARTS, Event, IllegalTransition, Press, State, change, team_of


def begin(state, event, data):
    if state.status != "ready":
        raise IllegalTransition("决赛已经开始")
    state.status = "running"


def open_(state, event, data):
    """The next slot of the run sheet; its team is the slot's (必答, 风险) or, for a 加赛风险题,
    the next team of the 加赛's round (quizapp.rules.final.tiebreak)."""
    if state.tiebreak_mode == "risk" and state.tiebreak is not None:
        tiebreak.check_can_open(state)
    index = state.next_slot()
    if index is None:
        raise IllegalTransition("没有下一题了" if state.tiebreak is None else "加赛题已用完")
    if data.get("slot", index) != index:
        raise IllegalTransition(f"请按顺序进行：下一题是第 {index + 1} 题")
    state.slot, state.phase = index, "announced"
    state.value, state.presses, state.locked, state.tried = None, [], [], []
    state.answering, state.tied, state.answers, state.result, state.timer = None, [], {}, None, None
    state.settled = False
    state.turn = tiebreak.next_turn(state) if state.part == "tiebreak_risk" else state.slots[index]["team"]


def choose(state, event, data):
    if state.part not in RISK_PARTS:
        raise IllegalTransition("只有风险题需要选择分值")
    team = team_of(state, data)
    if team != state.turn:
        raise IllegalTransition("本题不是该队的风险题")
    if state.value is not None:
        raise IllegalTransition("分值已选定")
    value = data.get("value")
    settings = state.part_config()
    if isinstance(value, bool) or value not in settings["values"]:
        raise IllegalTransition("没有这个分值")
    if value not in state.values_left(team, state.part):
        raise IllegalTransition(f"{value} 分的风险题已用完")
    used = state.used_values(team, state.part)
    used[value] = used.get(value, 0) + 1
    state.value = value


def show(state, event, data):
    if state.part in RISK_PARTS and state.value is None:
        raise IllegalTransition("请先由答题队伍选择分值")
    state.phase = "shown"
    if state.part not in BUZZER_PARTS:
        state.answering = state.turn
        state.timer = {"kind": "answer", "started_at": event.at, "seconds": state.part_config()["seconds"]}


def start(state, event, data):
    if state.part not in BUZZER_PARTS:
        raise IllegalTransition("本题不是抢答题")
    state.phase = "open"
    state.timer = {"kind": "press", "started_at": event.at, "seconds": state.part_config()["press_seconds"]}


def press(state, event, data):
    if state.part not in BUZZER_PARTS:
        raise IllegalTransition("本题不是抢答题")
    team = team_of(state, data)
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
        change(state, event, team, -int(state.part_config()["false_start_penalty"]), "抢答犯规")
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


def answer(state, event, data):
    team = team_of(state, data)
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


def settle(state, event, data):
    team = team_of(state, data)
    if team not in state.tied:
        raise IllegalTransition("该队不在并列抢答的队伍中")
    state.tied, state.answering, state.settled = [], team, True


def judge(state, event, data):
    """Right adds the part's points (a 风险 part: the chosen value), wrong subtracts the part's
    wrong points (a 风险 part: the value). In a 抢答 part with pass_on, the next press answers."""
    correct = data.get("correct")
    if not isinstance(correct, bool):
        raise IllegalTransition("请判定正确或错误")
    team = state.answering
    if team is None:
        raise IllegalTransition("还没有答题的队伍")
    settings = state.part_config()
    why = f"{PARTS[state.part]}{'答对' if correct else '答错'}"
    if state.part in RISK_PARTS:
        change(state, event, team, state.value if correct else -state.value, why)
    else:
        change(state, event, team, int(settings["points"]) if correct else -int(settings["wrong_points"]), why)
    state.tried.append(team)
    state.answering, state.settled, state.timer = None, False, None
    if not correct and state.part in BUZZER_PARTS and settings["pass_on"]:
        _choose_answering(state, event)
        if state.answering is not None or state.tied:
            return
    state.phase, state.result, state.timer = "judged", "right" if correct else "wrong", None


def void(state, event, data):
    if state.valid_presses():
        raise IllegalTransition("已有队伍抢答，不能作废")
    state.phase, state.result, state.timer = "judged", "void", None


def reveal(state, event, data):
    state.phase, state.timer = "revealed", None
    state.done.append(state.slot)
    if state.part == "tiebreak_risk":
        tiebreak.after_turn(state)


def adjust(state, event, data):
    team = team_of(state, data)
    delta, reason = data.get("delta"), data.get("reason")
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0 or abs(delta) > 1000:
        raise IllegalTransition("调整分值须为 -1000 到 1000 之间的非零整数")
    if not isinstance(reason, str) or not reason.strip():
        raise IllegalTransition("调整分数必须填写理由")
    change(state, event, team, delta, f"主持人调整：{reason.strip()[:200]}")


def finish(state, event, data):
    if state.tiebreak is None and state.next_slot() is not None:
        raise IllegalTransition("还有题目未进行")
    tiebreak.check_can_finish(state)
    state.status, state.tiebreak, state.tiebreak_mode = "finished", None, None


HANDLERS = {"begin": begin, "open": open_, "choose": choose, "show": show, "start": start, "press": press,
            "answer": answer, "settle": settle, "judge": judge, "void": void, "reveal": reveal,
            "adjust": adjust, "tiebreak": tiebreak.start, "finish": finish}
