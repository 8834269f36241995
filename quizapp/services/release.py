"""When results reach people outside the organizer's office: one rule for participants and
for unit liaisons, so a liaison never sees what the person themself may not yet see."""
from __future__ import annotations

from ..models import Attempt, Round
from .rounds import answers_released


def results_released(round_: Round) -> bool:
    """Ranks, correct answers and explanations: only once the round is over and published."""
    return answers_released(round_)


def score_visible(attempt: Attempt | None) -> bool:
    """An attempt's score: once its round's results are released, or — when the round says so —
    as soon as it is finished (never for an invalidated attempt before release)."""
    if attempt is None or not attempt.finished:
        return False
    if results_released(attempt.round):
        return True
    return attempt.round.show_score == "on_submit" and not attempt.invalidated_at
