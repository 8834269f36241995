"""The final's standing."""
from __future__ import annotations

from .state import State


def ranking(state: State) -> list[tuple[int, int, int]]:
    """(rank, team, score), best first; equal scores share a rank (1, 1, 3); equal scores are
    listed in the final's team order."""
    ordered = sorted(state.teams, key=lambda t: (-state.scores[t], state.teams.index(t)))
    rows, rank = [], 0
    for position, team in enumerate(ordered, start=1):
        if position == 1 or state.scores[team] != state.scores[ordered[position - 2]]:
            rank = position
        rows.append((rank, team, state.scores[team]))
    return rows
