"""Ranking individuals and units. Pure: no Flask, no database.

Individuals (`rank_individuals`): higher score first; equal scores → less time used first;
still equal → earlier submission first; equal in all three → the same rank, and the next
rank skips (1, 1, 3). Ties are decided on exact values: scores are rounded to 0.01 and
times to whole seconds by the caller before ranking.

Units (`rank_units`): by the chosen measure — mean of the participants' scores (default),
their sum, or the mean of the best k (missing places count as 0, so sending fewer people
never helps). Equal measures share a rank. Units where nobody took part come after all
others, unranked, ordered by name, so no unit silently disappears from the list.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

UNIT_METHODS = ("mean", "sum", "best_k")


@dataclass(frozen=True)
class Result:
    key: object
    score: float
    time_used: int
    submitted_at: datetime


@dataclass(frozen=True)
class UnitInput:
    key: object
    name: str
    registered: int
    scores: tuple[float, ...]


@dataclass(frozen=True)
class UnitRow:
    rank: int | None
    key: object
    name: str
    value: float | None
    registered: int
    took_part: int
    time_used: int | None = None  # teams only: their tie-break, shown beside the score

    @property
    def participation(self) -> float:
        return self.took_part / self.registered if self.registered else 0.0


def competition_ranks(sort_keys: list) -> list[int]:
    """Standard competition ranks (1, 1, 3) for keys already in sorted order."""
    ranks = []
    for index, key in enumerate(sort_keys):
        ranks.append(ranks[-1] if index and key == sort_keys[index - 1] else index + 1)
    return ranks


def rank_individuals(results: list[Result]) -> list[tuple[int, Result]]:
    ordered = sorted(results, key=lambda r: (-r.score, r.time_used, r.submitted_at))
    keys = [(-r.score, r.time_used, r.submitted_at) for r in ordered]
    return list(zip(competition_ranks(keys), ordered, strict=True))


def unit_value(scores: tuple[float, ...], method: str, k: int | None = None) -> float:
    if method == "mean":
        return round(sum(scores) / len(scores), 2)
    if method == "sum":
        return round(sum(scores), 2)
    if method == "best_k":
        if not k or k < 1:
            raise ValueError("best_k needs k ≥ 1")
        return round(sum(sorted(scores, reverse=True)[:k]) / k, 2)
    raise ValueError(f"unknown unit ranking method: {method}")


def rank_units(units: list[UnitInput], method: str = "mean", k: int | None = None) -> list[UnitRow]:
    active = [u for u in units if u.scores]
    idle = sorted((u for u in units if not u.scores), key=lambda u: u.name)
    valued = [(unit_value(u.scores, method, k), u) for u in active]
    # Equal measures share a rank; the display order among them favours higher participation.
    valued.sort(key=lambda pair: (-pair[0], -(len(pair[1].scores) / max(pair[1].registered, 1)), pair[1].name))
    ranks = competition_ranks([value for value, _ in valued])
    rows = [
        UnitRow(rank, u.key, u.name, value, u.registered, len(u.scores))
        for rank, (value, u) in zip(ranks, valued, strict=True)
    ]
    rows.extend(UnitRow(None, u.key, u.name, None, u.registered, 0) for u in idle)
    return rows
