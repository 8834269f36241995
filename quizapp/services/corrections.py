"""Answer-key corrections (勘误) and voided questions, with re-scoring and a change report.

A correction applies to every version of the question (the same `qid`): the key was wrong,
not one printing of it. Every finalized attempt that showed any version is re-scored in the
same transaction — only that question's items, with each attempt's total moved by the
difference — and the report lists everyone whose score or rank changed, per round. Attempts
still in progress are left alone: they are scored with the corrected key when they finish.
"""
from __future__ import annotations

from sqlalchemy import select, update

from ..banks.loader import JUDGE_WORDS, OPTION_KEY
from ..extensions import db
from ..models import Attempt, AttemptItem, Correction, Question, Round
from ..models.banks import VOID_MODES
from . import ServiceError, audit
from ..scoring import item_score
from .attempts import scoring_rules, sweep_expired
from .results import individual_leaderboard


def parse_answer(question: Question, text: str):
    """A key typed by an organizer, in the bank's canonical form. Raises ServiceError.

    单选 "B"; 多选 "ABD"; 判断 正确/错误; 填空 one line per blank, variants separated by "/"."""
    text = (text or "").strip()
    keys = {key for key, _ in question.options}
    if question.type in ("single", "multiple"):
        letters = sorted(set(text.upper().replace(",", "").replace(" ", "")))
        if not letters or not all(OPTION_KEY.match(c) and c in keys for c in letters):
            raise ServiceError("答案必须是本题已有的选项字母")
        if question.type == "single":
            if len(letters) != 1:
                raise ServiceError("单选题只能有一个正确选项")
            return letters[0]
        if len(letters) < 2 or len(letters) == len(keys):
            raise ServiceError("多选题至少两个正确选项，且至少留一个错误选项")
        return letters
    if question.type == "judge":
        if text not in JUDGE_WORDS:
            raise ServiceError("判断题答案请填“正确”或“错误”")
        return JUDGE_WORDS[text]
    blanks = [[v.strip() for v in line.split("/") if v.strip()] for line in text.splitlines() if line.strip()]
    if len(blanks) != len(question.answer) or any(not b for b in blanks):
        raise ServiceError(f"本题有 {len(question.answer)} 个空，请每行填写一个空的答案（多个可接受写法用 / 分隔）")
    return blanks


def _affected(qid: str) -> tuple[list[Question], list[Round]]:
    versions = db.session.scalars(select(Question).filter_by(qid=qid)).all()
    if not versions:
        raise ServiceError("题目不存在")
    round_ids = select(Attempt.round_id).join(AttemptItem, AttemptItem.attempt_id == Attempt.id).where(
        AttemptItem.question_id.in_([v.id for v in versions])).distinct()
    rounds = db.session.scalars(select(Round).where(Round.id.in_(round_ids)).order_by(Round.id)).all()
    return versions, rounds


def _rescore_items(versions: list[Question], void_before: dict[int, str | None]) -> int:
    """Re-score only the items that showed the question, and move each finalized attempt's
    score and maximum by the difference — set-based, so 50,000 attempts take seconds, and
    attempts still in progress are not touched (they are scored when they finish).
    Returns the number of attempts re-scored."""
    by_id = {v.id: v for v in versions}
    rows = db.session.execute(
        select(AttemptItem.id, AttemptItem.question_id, AttemptItem.response, AttemptItem.points,
               Attempt.id.label("attempt_id"), Attempt.score, Attempt.max_score, Attempt.invalidated_at, Round)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id).join(Round, Round.id == Attempt.round_id)
        .where(AttemptItem.question_id.in_(list(by_id)), Attempt.status != "in_progress")
    ).all()
    rules_by_round: dict[int, object] = {}
    item_updates, totals = [], {}
    for row in rows:
        rules = rules_by_round.setdefault(row.Round.id, scoring_rules(row.Round))
        question = by_id[row.question_id]
        points, full = item_score(question.type, question.answer, question.void, row.response, rules)
        old_points = row.points or 0.0
        old_full = 0.0 if void_before[question.id] == "drop" else rules.points_for(question.type)
        item_updates.append({"id": row.id, "points": points})
        entry = totals.setdefault(row.attempt_id, [row.score or 0.0, row.max_score, row.invalidated_at, 0.0, 0.0])
        entry[3] += points - old_points
        entry[4] += full - old_full
    if item_updates:
        db.session.execute(update(AttemptItem), item_updates)
    attempt_updates = [
        {"id": attempt_id, "score": 0.0 if invalid else round(score + d_score, 2), "max_score": round(maximum + d_max, 2)}
        for attempt_id, (score, maximum, invalid, d_score, d_max) in totals.items()
    ]
    if attempt_updates:
        db.session.execute(update(Attempt), attempt_updates)
    return len(attempt_updates)


def _snapshot(rounds: list[Round]) -> dict[int, tuple]:
    return {row.attempt_id: (row.rank, row.score) for r in rounds for row in individual_leaderboard(r, sweep=False)}


def _apply(qid: str, kind: str, change, reason: str, old, new) -> Correction:
    if not reason or not reason.strip():
        raise ServiceError("请填写更正原因")
    sweep_expired()  # commits on its own; everything after this is one transaction
    versions, rounds = _affected(qid)
    before = _snapshot(rounds)
    void_before = {v.id: v.void for v in versions}
    for version in versions:
        change(version)
    db.session.flush()
    rescored = _rescore_items(versions, void_before)
    db.session.expire_all()
    report = []
    for r in rounds:
        for row in individual_leaderboard(r, sweep=False):
            old_rank, old_score = before.get(row.attempt_id, (None, None))
            if (old_rank, old_score) != (row.rank, row.score):
                report.append({"round": r.name, "name": row.name, "username": row.username, "unit": row.unit,
                               "score_before": old_score, "score_after": row.score,
                               "rank_before": old_rank, "rank_after": row.rank})
    correction = Correction(qid=qid, kind=kind, old_answer=old, new_answer=new, reason=reason.strip(), report=report,
                            actor_id=audit.actor_id())
    db.session.add(correction)
    audit.record("question.correct" if kind == "rekey" else "question.void", qid,
                 f"{'更正答案' if kind == 'rekey' else VOID_MODES.get(kind, '恢复')}：{reason.strip()}；"
                 f"重新计分 {rescored} 份试卷，{len(report)} 人成绩或名次变化",
                 before=old, after=new, rounds=[r.name for r in rounds])
    db.session.commit()
    return correction


def correct_key(question: Question, answer_text: str, reason: str) -> Correction:
    new = parse_answer(question, answer_text)
    old = question.answer
    if new == old:
        raise ServiceError("新答案与原答案相同")

    def change(version: Question) -> None:
        version.answer = new
    return _apply(question.qid, "rekey", change, reason, old, new)


def void_question(question: Question, mode: str, reason: str) -> Correction:
    """mode "award": everyone gets the points; "drop": the question leaves every total;
    "restore": the question counts normally again."""
    if mode not in (*VOID_MODES, "restore"):
        raise ServiceError("作废方式无效")

    def change(version: Question) -> None:
        version.void = None if mode == "restore" else mode
    return _apply(question.qid, mode, change, reason, question.void, None if mode == "restore" else mode)


def set_disabled(question: Question, disabled: bool) -> None:
    """Keep a question out of (or back in) future papers; attempts already drawn are unchanged."""
    question.disabled = disabled
    audit.record("question.disable" if disabled else "question.enable", question.qid,
                 "停用（不再用于新试卷）" if disabled else "重新启用")
    db.session.commit()
