"""What a participant's lobby shows, in the order a person needs it: what they can do now
(an open round to start or continue), then practice (the template's practice card, from
quizapp.services.practice.lobby_summary: practice is not a round and has no card here), then
what is coming, then past rounds with results.

Scores and ranks follow the release rule (quizapp.services.release); a round the person did
not qualify for says 「未晋级」 and why, in the words of the advancement that decided it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..advancement import Rule
from ..extensions import db
from ..models import Attempt, Round, User
from . import entry
from .release import results_released, score_visible
from .results import individual_leaderboard

NOW, LATER, NOT_ENTERED, PAST = 0, 1, 2, 3
SECTION_TITLES = {NOW: "现在可以参加", LATER: "即将开始", NOT_ENTERED: "未获参赛资格的轮次", PAST: "已结束的轮次"}


@dataclass
class Card:
    round: Round
    attempt: Attempt | None
    section: int
    can_start: bool
    note: str = ""             # why the person cannot take part, in Chinese
    show_score: bool = False
    rank: int | None = None
    unit_rank: int | None = None


def lobby_cards(rounds: list[Round], attempts: dict[int, Attempt], refusals: dict[int, str | None], now,
                user: User) -> list[Card]:
    """One card per round the person may see, sorted: NOW, then LATER (by start), then PAST
    (latest first)."""
    cards = []
    for round_ in rounds:
        attempt = attempts.get(round_.id)
        refusal = refusals.get(round_.id)
        over = round_.status == "closed" or now >= round_.closes_at
        if attempt is not None:
            section = PAST if attempt.finished else NOW
        elif refusal is None:
            section = NOW
        elif round_.restricted and not entry.is_entrant(round_, user):
            section = NOT_ENTERED
        elif over:
            section = PAST
        else:
            section = LATER
        card = Card(round_, attempt, section, can_start=attempt is None and refusal is None)
        if attempt is None and refusal:
            card.note = _not_taking_part(round_, user, refusal, over, now, section == NOT_ENTERED)
        if attempt is not None and attempt.finished:
            card.show_score = score_visible(attempt)
            if results_released(round_) and not attempt.invalidated_at and not round_.is_team:
                card.rank, card.unit_rank = _ranks(round_, user)
        cards.append(card)
    order = {NOW: lambda c: c.round.closes_at.timestamp(), LATER: lambda c: c.round.opens_at.timestamp(),
             NOT_ENTERED: lambda c: -c.round.opens_at.timestamp(), PAST: lambda c: -c.round.closes_at.timestamp()}
    return sorted(cards, key=lambda c: (c.section, order[c.section](c)))


def _not_taking_part(round_: Round, user: User, refusal: str, over: bool, now, not_entered: bool) -> str:
    if not_entered:
        return "未晋级：" + _advancement_reason(round_, user)
    if over:
        return "本轮已结束，您未参加。"
    if now < round_.opens_at:
        return "尚未到开放时间。"
    return refusal


def _advancement_reason(round_: Round, user: User) -> str:
    """The rule that decided this round's entrants, the organizer's reason if they removed this
    person by hand, and the person's own standing only where its results are released."""
    advancement = round_.advancement or {}
    removed = (advancement.get("remove") or {}).get(user.username)
    if removed:
        return f"组织者调整晋级名单时未列入（{removed}）。"
    source = db.session.get(Round, advancement["from"]) if advancement.get("from") else None
    if source is None:
        return "本轮仅限组织者指定的人员参加。"
    text = f"根据{source.name}成绩，晋级条件为「{Rule.from_dict(advancement.get('rule') or {}).describe()}」"
    if results_released(source):
        rank, unit_rank = _ranks(source, user)
        if rank is not None:
            text += f"，您在{source.name}中总排名第 {rank} 名、本单位第 {unit_rank} 名"
    return text + "，未达到晋级条件。"


def _ranks(round_: Round, user: User) -> tuple[int | None, int | None]:
    """The person's rank in the whole round and within their unit (the leaderboard's own rule)."""
    rows = individual_leaderboard(round_, unit_id=user.unit_id, sweep=False)
    mine = next((r for r in rows if r.username == user.username), None)
    if mine is None or mine.rank is None:
        return None, None
    return mine.rank, 1 + sum(1 for r in rows if r.rank is not None and r.rank < mine.rank)
