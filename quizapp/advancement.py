"""Who advances to the next round. Pure: no Flask, no database.

A rule combines any of: the best `per_unit` of every unit, the best `top_n` overall, everyone
at or above `min_score`; their union qualifies. `top_units` first narrows the field to the
people of the K best units (by the previous round's unit ranking, ties included) — the usual
way to pick the teams for a final. `fill_to` then adds the best of the rest in
overall order until at least that many qualify ("the best 2 of every unit, then fill to 60").

Order is the individual ranking (quizapp.ranking). Ties at any line are kept together: if the
last place a rule admits is shared, everyone sharing it qualifies, and the reason says so.
Invalidated attempts never qualify.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .ranking import Result, rank_individuals


@dataclass(frozen=True)
class Candidate:
    key: object
    name: str
    unit: str
    score: float
    time_used: int
    submitted_at: datetime
    invalid: bool = False


@dataclass(frozen=True)
class Rule:
    top_n: int | None = None
    per_unit: int | None = None
    min_score: float | None = None
    fill_to: int | None = None
    top_units: int | None = None

    def describe(self) -> str:
        parts = []
        if self.per_unit:
            parts.append(f"每单位前 {self.per_unit} 名")
        if self.top_n:
            parts.append(f"总排名前 {self.top_n} 名")
        if self.min_score is not None:
            parts.append(f"得分不低于 {self.min_score:g} 分")
        text = "，或".join(parts) or "无"
        if self.top_units:
            text = f"单位排名前 {self.top_units} 的单位中：" + text
        return text + (f"；再按总排名递补至 {self.fill_to} 人" if self.fill_to else "")

    def is_empty(self) -> bool:
        return not (self.top_n or self.per_unit or self.min_score is not None or self.fill_to)

    @classmethod
    def from_dict(cls, data: dict) -> "Rule":
        def number(key, kind=int):
            value = data.get(key)
            return None if value in (None, "") else kind(value)
        return cls(number("top_n"), number("per_unit"), number("min_score", float), number("fill_to"),
                   number("top_units"))

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Decision:
    candidate: Candidate
    rank: int
    unit_rank: int
    qualified: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


def _ranked(candidates: list[Candidate]) -> list[tuple[int, Candidate]]:
    results = {c.key: c for c in candidates}
    ranked = rank_individuals([Result(c.key, c.score, c.time_used, c.submitted_at) for c in candidates])
    return [(rank, results[r.key]) for rank, r in ranked]


def preview(candidates: list[Candidate], rule: Rule, unit_ranks: dict[str, int | None] | None = None) -> list[Decision]:
    """A decision for every candidate, in ranking order, each with its reasons.
    `unit_ranks` (unit name → rank in the previous round) is needed for `top_units`."""
    outside: list[Candidate] = []
    if rule.top_units:
        ranks = unit_ranks or {}
        inside = {u for u, r in ranks.items() if r is not None and r <= rule.top_units}
        outside = [c for c in candidates if c.unit not in inside and not c.invalid]
        candidates = [c for c in candidates if c.unit in inside or c.invalid]
    valid = [c for c in candidates if not c.invalid]
    decisions = []
    unit_ranked: dict[str, list[tuple[int, Candidate]]] = {}
    for rank, cand in _ranked(valid):
        unit_ranked.setdefault(cand.unit, []).append((rank, cand))
    unit_rank = {}
    for members in unit_ranked.values():
        keys = [(-c.score, c.time_used, c.submitted_at) for _, c in members]
        for index, (_, cand) in enumerate(members):
            unit_rank[cand.key] = 1 + sum(k < keys[index] for k in keys)
    for rank, cand in _ranked(valid):
        decisions.append(Decision(cand, rank, unit_rank[cand.key]))
    for decision in decisions:
        d, c = decision, decision.candidate
        if rule.per_unit and d.unit_rank <= rule.per_unit:
            d.reasons.append(f"本单位第 {d.unit_rank} 名（每单位前 {rule.per_unit} 名）" + _tie_note(d.unit_rank, rule.per_unit, decisions, d, by_unit=True))
        if rule.top_n and d.rank <= rule.top_n:
            d.reasons.append(f"总排名第 {d.rank} 名（前 {rule.top_n} 名）" + _tie_note(d.rank, rule.top_n, decisions, d))
        if rule.min_score is not None and c.score >= rule.min_score:
            d.reasons.append(f"得分 {c.score:g} ≥ 分数线 {rule.min_score:g}")
        d.qualified = bool(d.reasons)
    if rule.fill_to:
        count = sum(d.qualified for d in decisions)
        line_rank = None
        for d in decisions:
            if d.qualified:
                continue
            if count < rule.fill_to or d.rank == line_rank:
                d.qualified = True
                d.reasons.append(f"按总排名递补：第 {d.rank} 名（递补至 {rule.fill_to} 人）"
                                 + ("，与递补线并列" if d.rank == line_rank else ""))
                count += 1
                line_rank = d.rank
    for d in decisions:
        if not d.qualified:
            d.reasons.append(f"总排名第 {d.rank} 名，本单位第 {d.unit_rank} 名，未达晋级条件")
    decisions.extend(
        Decision(c, 0, 0, False, ["成绩已作废，不能晋级"]) for c in candidates if c.invalid
    )
    decisions.extend(
        Decision(c, 0, 0, False, [f"所在单位不在单位排名前 {rule.top_units} 名"]) for c in outside
    )
    return decisions


def _tie_note(position: int, line: int, decisions: list[Decision], d: Decision, by_unit: bool = False) -> str:
    """Say so when a place at the line is shared and the tie took the person over the count."""
    peers = [x for x in decisions if (x.candidate.unit == d.candidate.unit if by_unit else True)]
    at_line = [x for x in peers if (x.unit_rank if by_unit else x.rank) == position]
    if len(at_line) > 1 and position + len(at_line) - 1 > line:
        return "，与线上名次并列，一并晋级"
    return ""
