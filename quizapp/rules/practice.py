"""Pure rules of practice (大学习): the 错题本's Leitner boxes, the 每日一练 draw, the week.

No Flask and no database: the service (quizapp.services.practice) reads and writes, these
decide.

The 错题本 (mistake book) is a two-box Leitner system. A wrong answer — in a published round or
in practice — puts the question in box 0. A right answer in a *later* practice session moves it
up one box; at box MASTERED_BOX it leaves the book. "Later" means a session other than the one
that last moved it: answering it right twice in the session where it was missed (or in one
session) shows short-term recall, not learning, so it counts once.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MASTERED_BOX = 2  # right twice in later sessions: the question leaves the 错题本
DAILY_COUNT = 10  # questions of one 每日一练


@dataclass(frozen=True)
class Box:
    """Where a question stands in one person's 错题本: `box` 0 … MASTERED_BOX (MASTERED_BOX means
    it has left the book), and the practice session that last moved it (None: a round)."""

    box: int
    session_id: int | None


def review(entry: Box | None, correct: bool, session_id: int) -> Box | None:
    """The entry after an answer in practice session `session_id`.

    - wrong: box 0, whatever it was (also for a question never missed before, or one that had
      left the book);
    - right, and not in the book (no entry, or already left): unchanged;
    - right in the session that last moved it: unchanged (it must be a later session);
    - right otherwise: one box up; reaching MASTERED_BOX means it leaves the book.
    Returns the new entry, or the same object when nothing changes (callers skip the write).
    """
    if not correct:
        return Box(0, session_id)
    if entry is None or entry.box >= MASTERED_BOX or entry.session_id == session_id:
        return entry
    return Box(min(entry.box + 1, MASTERED_BOX), session_id)


def missed_in_round(entry: Box | None) -> Box:
    """A question missed in a published round: box 0, not tied to any practice session (so the
    next practice session's right answer already counts)."""
    return Box(0, None)


def in_book(entry: Box | None) -> bool:
    return entry is not None and entry.box < MASTERED_BOX


def weakness(right: int, answered: int) -> float:
    """A chapter's estimated accuracy with one imagined right and one imagined wrong answer
    (Laplace's rule of succession): a chapter never practised counts as 0.5, one missed
    once (0.33) is weaker than one never seen, one answered right 9 times of 10 is strong
    (0.83). Lower is weaker."""
    return (right + 1) / (answered + 2)


def daily_pick(chapters: dict[str, list[int]], stats: dict[str, tuple[int, int]], seed: str,
               count: int = DAILY_COUNT, booked: frozenset[int] = frozenset()) -> list[int]:
    """Question ids for one 每日一练: weak chapters first, then one question per chapter in turn.

    `chapters` maps a chapter key to its question ids, `stats` a chapter key to (right,
    answered) from the person's own answers, `booked` the ids in their 错题本 (taken first
    within each chapter). Chapters are ordered by `weakness` (ties broken by the seeded
    shuffle, so equally weak chapters do not always come in the same order); the draw then
    takes one question from each chapter in that order, round after round, until `count`.
    Deterministic: the same arguments always give the same list — per person per day the
    seed is "person:date", so reloading gives the same questions."""
    rng = random.Random(seed)
    keys = sorted(k for k, ids in chapters.items() if ids)
    rng.shuffle(keys)
    keys.sort(key=lambda k: weakness(*stats.get(k, (0, 0))))
    queues = {}
    for key in keys:
        ids = sorted(set(chapters[key]))
        rng.shuffle(ids)
        ids.sort(key=lambda q: q not in booked)  # stable: booked first, shuffled within each part
        queues[key] = ids
    picked: list[int] = []
    seen: set[int] = set()
    while len(picked) < count and any(queues.values()):
        for key in keys:
            while queues[key] and queues[key][0] in seen:
                queues[key].pop(0)
            if queues[key] and len(picked) < count:
                question = queues[key].pop(0)
                picked.append(question)
                seen.add(question)
    return picked


def week_start(local_moment: datetime) -> datetime:
    """Monday 00:00 of the week of `local_moment` (北京时间 in, 北京时间 out): 本周 on the
    liaison's and organizer's practice pages."""
    day: date = local_moment.date() - timedelta(days=local_moment.weekday())
    return datetime(day.year, day.month, day.day)
