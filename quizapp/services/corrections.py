"""Answer-key corrections (勘误) and voided questions, with re-scoring and a change report.

A correction applies to every version of the question (the same `qid`): the key was wrong,
not one printing of it. Every finalized attempt that showed any version is re-scored in the
same transaction — only that question's items, with each attempt's total moved by the
difference — and the report lists everyone whose score or rank changed, per round. Attempts
still in progress are left alone: they are scored with the corrected key when they finish.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from ..banks.loader import JUDGE_WORDS, OPTION_KEY
from ..extensions import db
from ..formatting import format_score, score_number
from ..models import Attempt, AttemptItem, Correction, Question, Round
from ..models.banks import VOID_MODES
from ..ranking import Result, rank_individuals
from ..scoring import item_score
from . import ServiceError, audit, drawing, health
from .attempts import sweep_expired
from .drawing import scoring_rules
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


@dataclass(frozen=True)
class Key:
    """A question version's key and void state (before or after the correction)."""

    type: str
    answer: object
    void: str | None


def _plan_rescore(keys_before: dict[int, Key], keys_after: dict[int, Key], only: set[int] | None = None):
    """New item points and attempt totals for every finalized attempt that showed one of the
    versions: only those items change, and each attempt moves by the difference. Reads only.
    Returns (item updates, attempt updates)."""
    query = (
        select(AttemptItem.id, AttemptItem.question_id, AttemptItem.response, AttemptItem.points,
               Attempt.id.label("attempt_id"), Attempt.score, Attempt.max_score, Attempt.invalidated_at, Round)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id).join(Round, Round.id == Attempt.round_id)
        .where(AttemptItem.question_id.in_(list(keys_after)), Attempt.status != "in_progress")
    )
    if only is not None:
        query = query.where(Attempt.id.in_(only))
    rules_by_round: dict[int, object] = {}
    item_updates, totals = [], {}
    for row in db.session.execute(query):
        rules = rules_by_round.setdefault(row.Round.id, scoring_rules(row.Round))
        new, old = keys_after[row.question_id], keys_before[row.question_id]
        points, full = item_score(new.type, new.answer, new.void, row.response, rules)
        old_full = item_score(old.type, old.answer, old.void, None, rules)[1]
        item_updates.append({"id": row.id, "points": points})
        entry = totals.setdefault(row.attempt_id, [row.score or 0.0, row.max_score, row.invalidated_at, 0.0, 0.0])
        entry[3] += points - (row.points or 0.0)
        entry[4] += full - old_full
    attempt_updates = [
        {"id": attempt_id, "score": 0.0 if invalid else round(score + d_score, 2), "max_score": round(maximum + d_max, 2)}
        for attempt_id, (score, maximum, invalid, d_score, d_max) in totals.items()
    ]
    return item_updates, attempt_updates


def _report(rounds: list[Round], attempt_updates: list[dict]) -> list[dict]:
    """Who changes score or rank, per round: the new ranks come from the pure ranking rules
    (the same order the database uses), so the report is known before anything is written."""
    new_scores = {u["id"]: (u["score"]) for u in attempt_updates}
    report = []
    for r in rounds:
        rows = individual_leaderboard(r, sweep=False)
        ranked = rank_individuals([Result(row.attempt_id, new_scores.get(row.attempt_id, row.score), row.time_used,
                                          row.submitted_at) for row in rows if row.rank is not None])
        after = {result.key: (rank, result.score) for rank, result in ranked}
        for row in rows:
            rank_after, score_after = after.get(row.attempt_id, (None, new_scores.get(row.attempt_id, row.score)))
            if (row.rank, row.score) != (rank_after, score_after):
                report.append({"round": r.name, "name": row.name, "username": row.username, "unit": row.unit,
                               "score_before": row.score, "score_after": score_after,
                               "rank_before": row.rank, "rank_after": rank_after})
    return report


def report_rows(report: list[dict] | None) -> list[dict]:
    """The rows of a stored report to show: only people whose score or rank changed (a row whose
    score and rank are both the same, as older reports may hold, is left out), each with
    `score_changed`, `rank_changed` and `change` — the difference in words, e.g.
    「得分 +2.5；名次 5 → 3（上升 2 名）」."""
    rows = []
    for entry in report or []:
        before, after = score_number(entry.get("score_before")), score_number(entry.get("score_after"))
        rank_before, rank_after = entry.get("rank_before"), entry.get("rank_after")
        score_changed, rank_changed = before != after, rank_before != rank_after
        if not (score_changed or rank_changed):
            continue
        parts = []
        if score_changed:
            delta = (after or 0) - (before or 0)
            parts.append(f"得分 {'+' if delta > 0 else '−'}{format_score(abs(delta))}")
        if rank_changed:
            text = f"名次 {rank_before or '—'} → {rank_after or '—'}"
            if rank_before and rank_after:
                text += f"（{'上升' if rank_after < rank_before else '下降'} {abs(rank_after - rank_before)} 名）"
            parts.append(text)
        rows.append({**entry, "score_changed": score_changed, "rank_changed": rank_changed, "change": "；".join(parts)})
    return rows


def _apply(qid: str, kind: str, change, reason: str, old, new) -> Correction:
    """Plan the re-scoring and the report with reads only, then write everything in one short
    transaction — on SQLite the write lock, which makes running rounds' saves wait, is held
    only for the writes themselves."""
    if not reason or not reason.strip():
        raise ServiceError("请填写更正原因")
    sweep_expired()  # commits on its own; the correction itself is the one transaction below
    versions, rounds = _affected(qid)
    keys_before = {v.id: Key(v.type, v.answer, v.void) for v in versions}
    keys_after = {v.id: Key(v.type, *change(v)) for v in versions}
    item_updates, attempt_updates = _plan_rescore(keys_before, keys_after)
    report = _report(rounds, attempt_updates)
    planned = {u["id"] for u in attempt_updates}
    for version in versions:
        version.answer, version.void = keys_after[version.id].answer, keys_after[version.id].void
    db.session.flush()
    # Attempts that finished between the reads and now were scored with the old key: add them.
    late = set(db.session.scalars(
        select(Attempt.id).join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
        .where(AttemptItem.question_id.in_(list(keys_after)), Attempt.status != "in_progress",
               Attempt.id.not_in(planned) if planned else True)))
    if late:
        more_items, more_attempts = _plan_rescore(keys_before, keys_after, only=late)
        item_updates += more_items
        attempt_updates += more_attempts
    if item_updates:
        db.session.execute(update(AttemptItem), item_updates)
    if attempt_updates:
        db.session.execute(update(Attempt), attempt_updates)
    correction = Correction(qid=qid, kind=kind, old_answer=old, new_answer=new, reason=reason.strip(), report=report,
                            actor_id=audit.actor_id())
    db.session.add(correction)
    health.invalidate_reports()  # the 体检 of every round is computed again with the new points
    audit.record("question.correct" if kind == "rekey" else "question.void", qid,
                 f"{'更正答案' if kind == 'rekey' else VOID_MODES.get(kind, '恢复')}：{reason.strip()}；"
                 f"重新计分 {len(attempt_updates)} 份试卷，{len(report)} 人成绩或名次变化",
                 before=old, after=new, rounds=[r.name for r in rounds])
    db.session.commit()
    return correction


def correct_key(question: Question, answer_text: str, reason: str) -> Correction:
    new = parse_answer(question, answer_text)
    old = question.answer
    if new == old:
        raise ServiceError("新答案与原答案相同")

    return _apply(question.qid, "rekey", lambda version: (new, version.void), reason, old, new)


def void_question(question: Question, mode: str, reason: str) -> Correction:
    """mode "award": everyone gets the points; "drop": the question leaves every total;
    "restore": the question counts normally again."""
    if mode not in (*VOID_MODES, "restore"):
        raise ServiceError("作废方式无效")

    void = None if mode == "restore" else mode
    return _apply(question.qid, mode, lambda version: (version.answer, void), reason, question.void, void)


def set_disabled(question: Question, disabled: bool) -> None:
    """Keep a question out of (or back in) future papers; attempts already started are
    unchanged. Papers prepared for open rounds but not yet started are drawn again without it."""
    question.disabled = disabled
    redrawn = drawing.redraw_without(question.id) if disabled else 0
    audit.record("question.disable" if disabled else "question.enable", question.qid,
                 (f"停用（不再用于新试卷；重新抽取 {redrawn} 份尚未开始的试卷）" if redrawn else "停用（不再用于新试卷）")
                 if disabled else "重新启用")
    db.session.commit()
