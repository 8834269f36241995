"""The audit log in words: each event as one Chinese sentence, for the page and the export.

Pure (no Flask, no database): `describe(action, target, summary, details)` reads what
`services.audit.record` stored and never shows a Python dict, list or repr. Known actions get
their own sentence («把 张三（2018001）在初赛的答题时间延长 5 分钟（原因：断网）»,
«修改轮次 初赛：答题时长 30 → 45 分钟»); an action it does not know is written as its label,
target and summary, with its details as 「名称：值」 pairs in words. Times stored in UTC by the
services (keys ending in `_at`) are shown in 北京时间.
"""
from __future__ import annotations

import re
from datetime import datetime

from .clock import to_local
from .formatting import format_score

# Names of the values services put in `details`, as the organizer's pages call them.
FIELD_LABELS = {
    "name": "名称", "unit": "单位", "phone": "手机", "group_name": "分组", "sort_order": "排序",
    "stage": "阶段", "opens_at": "开始时间", "closes_at": "结束时间", "time_limit_minutes": "答题时长",
    "question_count": "题量", "multiple_rule": "多选题计分", "partial_fraction": "漏选得分比例",
    "draw_mode": "组卷方式", "show_score": "成绩显示", "unit_method": "单位排名方式", "unit_k": "k（前 k 名）",
    "avoid_seen": "避开做过的题", "team_size": "每队人数", "team_scoring": "团体赛计分", "rules": "抽题规则",
    "points": "每题分值", "status": "状态", "score": "得分", "max_score": "满分", "reason": "原因",
    "rounds": "涉及轮次", "files": "文件", "new_units": "新建单位", "rule": "晋级规则", "added": "手动增加",
    "removed": "手动移除", "scheduled_close": "原定结束时间", "minutes": "分钟数", "username": "准考证号",
    "role": "角色", "active": "启用", "per_unit": "每单位前几名", "top_n": "总排名前几名", "min_score": "分数线",
    "fill_to": "递补至", "top_units": "单位排名前几的单位", "individual": "个人奖项", "mode": "设置方式",
    "type": "题型", "count": "数量", "doc": "出题范围", "difficulty": "难度", "topic": "专题", "topics": "专题",
    "allow_superseded": "可抽取已废止版本", "allow_mixed_versions": "同一文件不同版本可同卷",
    "include_superseded": "含已废止版本",
}
UNITS = {"time_limit_minutes": " 分钟", "team_size": " 人", "question_count": " 题"}
VALUE_WORDS = {
    "status": {"in_progress": "答题中", "submitted": "已交卷", "expired": "超时自动交卷", "draft": "未开放",
               "open": "进行中", "closed": "已结束"},
    "type": {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"},
    "draw_mode": {"random": "每人随机抽题", "fixed": "所有人同一套题"},
    "show_score": {"after_close": "公布成绩后显示得分", "on_submit": "交卷后立即显示得分"},
    "unit_method": {"mean": "平均分", "sum": "总分", "best_k": "前 k 名平均分"},
    "team_scoring": {"shared": "全队共答一份试卷", "sum": "队员个人得分之和", "mean": "队员个人得分平均"},
    "multiple_rule": {"all_or_nothing": "全对才得分", "partial": "少选得部分分，错选不得分"},
    "mode": {"counts": "按名额", "ranks": "按名次线"},
    "role": {"participant": "参赛人员", "liaison": "单位联络员", "admin": "组织者"},
}
VOID_WORDS = {None: "正常计分", "award": "作废，所有人得分", "drop": "作废，不计入总分"}
PRIZE_LEVELS = ("一等奖", "二等奖", "三等奖", "优秀奖")


def words(value, key: str = "") -> str:
    """Any stored value as words: 无 for nothing, 是/否, scores without trailing zeros, lists
    joined with 、, mappings as 「名称 值」 pairs — never Python syntax."""
    if value is None or value == "" or value == [] or value == {}:
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return format_score(value) + UNITS.get(key, "")
    if isinstance(value, str):
        if key.endswith("_at"):
            return _local_time(value)
        return VALUE_WORDS.get(key, {}).get(value, value) + UNITS.get(key, "")
    if key == "rules":
        return _sections(value)
    if key == "points" and isinstance(value, dict):
        return _points(value)
    if isinstance(value, dict):
        return "，".join(f"{label(k)} {words(v, k)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "、".join(words(v, key) for v in value)
    return str(value)


def label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def _local_time(text: str) -> str:
    """A naive UTC time as the services store it ("2026-05-08 01:00:00") in 北京时间."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def changes(before: dict, after: dict, labels: dict | None = None) -> str:
    """Only what changed, as 「名称 旧 → 新」 joined with ；; "" when nothing did."""
    parts = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if old != new:
            parts.append(f"{(labels or {}).get(key) or label(key)} {words(old, key)} → {words(new, key)}")
    return "；".join(parts)


def answer_words(answer) -> str:
    """A question's key: B, ABD, 正确/错误, fill blanks as 「甲/乙；丙」."""
    if isinstance(answer, bool):
        return "正确" if answer else "错误"
    if isinstance(answer, list) and answer and all(isinstance(a, list) for a in answer):
        return "；".join("/".join(str(v) for v in blank) for blank in answer)
    if isinstance(answer, list):
        return "".join(str(a) for a in answer)
    return words(answer)


def prize_words(setting: dict | None) -> str:
    if not setting or not any(setting.get(level) for level in PRIZE_LEVELS):
        return "未设置"
    if setting.get("mode") == "ranks":
        return "按名次线：" + "、".join(f"{level}至第 {setting[level]} 名" for level in PRIZE_LEVELS if setting.get(level))
    return "按名额：" + "、".join(f"{level} {setting[level]} 名" for level in PRIZE_LEVELS if setting.get(level))


def _person_in_round(target: str) -> tuple[str, str]:
    """("张三（2018001）", "初赛") from an attempt's target "初赛 · 张三（2018001）"."""
    round_name, _, person = target.partition(" · ")
    return (person, round_name) if person else (target, "")


def _minutes_and_reason(summary: str) -> tuple[str, str]:
    match = re.match(r"\D*(\d+)\s*分钟[：:](.*)$", summary or "", re.S)
    return (match.group(1), match.group(2).strip()) if match else ("", summary or "")


def _after_colon(summary: str) -> str:
    return (summary or "").split("：", 1)[1] if "：" in (summary or "") else (summary or "")


def _attempt(action, target, summary, details):
    person, round_name = _person_in_round(target)
    where = f"在{round_name}" if round_name else ""
    person = person + " " if not where else person
    if action == "attempt.extend":
        minutes, reason = _minutes_and_reason(summary)
        text = f"把 {person}{where}的答题时间延长 {minutes} 分钟（原因：{reason}）"
        if details.get("before") and details.get("after"):
            text += f"，截止时间 {details['before']} → {details['after']}"
        return text
    if action == "attempt.reopen":
        minutes, reason = _minutes_and_reason(summary)
        text = f"重新开放 {person}{where}的试卷 {minutes} 分钟（原因：{reason}）"
        before = details.get("before")
        if isinstance(before, dict):
            text += f"，原为{words(before.get('status'), 'status')}、得分 {words(before.get('score'))}"
        return text
    reason = _after_colon(summary)
    return f"作废 {person}{where}的成绩（原因：{reason}），得分 {words(details.get('before'))} → 0"


def _round_edit(target, summary, details):
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        changed = changes(before, after)
        return f"修改轮次 {target}：{changed}" if changed else f"修改轮次 {target} 的设置（名称和时间未变）"
    return f"修改轮次 {target}：{summary}"


def _question(action, target, summary, details):
    if action == "question.correct":
        change = f"答案 {answer_words(details.get('before'))} → {answer_words(details.get('after'))}"
    else:
        change = f"计分方式 {VOID_WORDS.get(details.get('before'), words(details.get('before')))} → " \
                 f"{VOID_WORDS.get(details.get('after'), words(details.get('after')))}"
    text = f"题目 {target}：{change}（原因：{_after_colon(summary)}）"
    if details.get("rounds"):
        text += f"；涉及轮次：{words(details['rounds'])}"
    return text


def _pairs(mapping) -> str:
    """{准考证号: 理由} → 「2018001（理由）、…」."""
    if not isinstance(mapping, dict):
        return words(mapping)
    return "、".join(f"{number}（{reason}）" if reason else str(number) for number, reason in mapping.items())


def _advance(target, summary, details):
    text = f"{target}：{summary}"
    if details.get("added"):
        text += f"；手动增加：{_pairs(details['added'])}"
    if details.get("removed"):
        text += f"；手动移除：{_pairs(details['removed'])}"
    return text


def _prizes(target, details):
    before, after = details.get("before") or {}, details.get("after") or {}
    parts = []
    for kind, name in (("individual", "个人"), ("unit", "单位")):
        old, new = prize_words(before.get(kind)), prize_words(after.get(kind))
        parts.append(f"{name}奖项 {new}" + (f"（原：{old}）" if old != new else "（未变）"))
    return f"设置 {target} 的奖项：" + "；".join(parts)


def _generic(action_label, target, summary, details):
    text = f"{action_label} {target}".strip()
    if summary and summary != action_label:
        text += f"：{summary}"
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        changed = changes(before, after)
        if changed:
            text += f"；{changed}"
    elif "before" in details or "after" in details:
        text += f"；{words(before)} → {words(after)}"
    rest = {k: v for k, v in details.items() if k not in ("before", "after") and v not in (None, "", [], {})}
    if rest:
        text += "；" + "；".join(f"{label(k)}：{words(v, k)}" for k, v in rest.items())
    return text


def _sections(rules) -> str:
    """Round rules [{"type": "single", "count": 20, …}] as 「单选题 20 道、…」."""
    if not isinstance(rules, list):
        return words(rules)
    parts = []
    for section in rules:
        if isinstance(section, dict):
            part = f"{words(section.get('type'), 'type')} {section.get('count', 0)} 道"
            extra = {k: v for k, v in section.items() if k not in ("type", "count") and v not in (None, "", [], False)}
            parts.append(part + (f"（{words(extra)}）" if extra else ""))
        else:
            parts.append(words(section))
    return "、".join(parts)


def _points(points: dict) -> str:
    """{"single": 1.0, …} as 「单选题 1 分、…」."""
    return "、".join(f"{words(k, 'type')} {words(v)} 分" for k, v in points.items())


def describe(action: str, target: str, summary: str, details: dict | None, action_label: str = "") -> str:
    """One event as a Chinese sentence (see the module docstring)."""
    details = details if isinstance(details, dict) else {}
    target, summary = target or "", summary or ""
    if action in ("attempt.extend", "attempt.reopen", "attempt.invalidate"):
        return _attempt(action, target, summary, details)
    if action == "round.edit":
        return _round_edit(target, summary, details)
    if action == "round.create":
        text = f"新建轮次 {target}（{summary}）" if summary else f"新建轮次 {target}"
        if details.get("rules"):
            text += f"；题目：{_sections(details['rules'])}"
        if isinstance(details.get("points"), dict):
            text += f"；每题分值：{_points(details['points'])}"
        return text
    if action == "round.prizes":
        return _prizes(target, details)
    if action in ("question.correct", "question.void"):
        return _question(action, target, summary, details)
    if action == "advance.confirm":
        return _advance(target, summary, details)
    if action == "person.edit" and isinstance(details.get("before"), dict):
        changed = changes(details["before"], details.get("after") or {}, {"name": "姓名"})
        return f"修改人员 {target}：{changed or '信息未变'}"
    if action in ("person.disable", "person.enable"):
        verb = "停用" if action == "person.disable" else "启用"
        return f"{verb}人员 {target}" + (f"（原因：{summary}）" if summary else "")
    if action == "person.reset_password":
        return f"重置 {target} 的密码"
    return _generic(action_label or action, target, summary, details)
