"""Prize lists (获奖名单). Pure: no Flask, no database.

Prizes are given by rank. A prize setting is either counts ("3 一等奖, 6 二等奖 …": the first
3 places, the next 6 …) or rank cut-offs ("一等奖 up to rank 3, 二等奖 up to rank 9 …").
Counts are turned into cut-offs, so people tied on a boundary rank all get the higher prize.
Unranked rows (units where nobody took part) never get a prize.
"""
from __future__ import annotations

LEVELS = ("一等奖", "二等奖", "三等奖", "优秀奖")


def cutoffs(setting: dict) -> list[tuple[str, int]]:
    """[(level, last rank that gets it)] from {"mode": "counts"|"ranks", level: number, …}."""
    mode = setting.get("mode", "counts")
    result, total = [], 0
    for level in LEVELS:
        value = int(setting.get(level) or 0)
        if value <= 0:
            continue
        if mode == "counts":
            total += value
            result.append((level, total))
        elif mode == "ranks":
            if value <= total:
                raise ValueError(f"{level}的名次线必须大于上一等奖的名次线")
            total = value
            result.append((level, value))
        else:
            raise ValueError(f"unknown prize mode: {mode}")
    return result


def award(rank: int | None, setting: dict | None) -> str:
    """The prize for a rank under `setting`, or "" for none."""
    return awarder(setting)(rank)


def awarder(setting: dict | None):
    """`award` with the cut-offs worked out once, for ranking many rows."""
    levels = cutoffs(setting) if setting else []

    def prize(rank: int | None) -> str:
        if rank is None:
            return ""
        for level, last in levels:
            if rank <= last:
                return level
        return ""
    return prize
