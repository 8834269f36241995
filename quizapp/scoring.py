"""Scoring one response and totalling an attempt. Pure: no Flask, no database.

Responses and answer keys use the canonical forms of `quizapp.banks.loader.Question`:
single "A"; multiple ["A", "C"]; judge True/False; fill [["variant", …], …] for the key and
["text", …] (one string per blank) for the response. Option letters are always the bank's
original letters, never the shuffled letters a participant saw.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .text import normalize_answer

MULTIPLE_RULES = ("all_or_nothing", "partial")
DEFAULT_POINTS = {"single": 1.0, "multiple": 2.0, "judge": 1.0, "fill": 2.0}


@dataclass(frozen=True)
class ScoringRules:
    """How a round scores: points per question type and the multiple-choice rule.

    Under "partial", choosing some but not all correct options and no wrong one earns
    `partial_fraction` of the points; any wrong option earns 0 under both rules.
    """

    points: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    multiple_rule: str = "all_or_nothing"
    partial_fraction: float = 0.5

    def __post_init__(self):
        if self.multiple_rule not in MULTIPLE_RULES:
            raise ValueError(f"unknown multiple-choice rule: {self.multiple_rule}")
        if not 0 <= self.partial_fraction <= 1:
            raise ValueError("partial_fraction must lie in [0, 1]")

    def points_for(self, qtype: str) -> float:
        return float(self.points.get(qtype, DEFAULT_POINTS[qtype]))


def is_answered(qtype: str, response) -> bool:
    if response is None:
        return False
    if qtype in ("multiple", "fill"):
        return isinstance(response, list) and any(str(r).strip() for r in response)
    if qtype == "single":
        return isinstance(response, str) and bool(response)
    return isinstance(response, bool)


def score_response(qtype: str, key, response, rules: ScoringRules) -> float:
    """Points earned by `response` against answer `key`; 0 for a blank or malformed response."""
    full = rules.points_for(qtype)
    if not is_answered(qtype, response):
        return 0.0
    if qtype == "single":
        return full if response == key else 0.0
    if qtype == "judge":
        return full if response is key else 0.0
    if qtype == "multiple":
        chosen, correct = set(response), set(key)
        if chosen == correct:
            return full
        if rules.multiple_rule == "partial" and chosen < correct:
            return round(full * rules.partial_fraction, 2)
        return 0.0
    if qtype == "fill":
        if len(response) != len(key):
            return 0.0
        for given, variants in zip(response, key, strict=True):
            accepted = {normalize_answer(v) for v in variants}
            if normalize_answer(str(given)) not in accepted:
                return 0.0
        return full
    raise ValueError(f"unknown question type: {qtype}")


def item_score(qtype: str, key, void: str | None, response, rules: ScoringRules) -> tuple[float, float]:
    """(points earned, points possible) for one question of a paper, after any correction:
    a question voided with "award" gives everyone full points; one voided with "drop" counts
    for nothing and leaves the maximum too."""
    full = rules.points_for(qtype)
    if void == "drop":
        return 0.0, 0.0
    if void == "award":
        return full, full
    return score_response(qtype, key, response, rules), full


def max_score(types: list[str], rules: ScoringRules) -> float:
    return round(sum(rules.points_for(t) for t in types), 2)
