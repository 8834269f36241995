"""Drawing a paper from the question pool by a round's rules. Pure: no Flask, no database.

A rule is a list of sections ("20 单选 from 监察法, difficulty 2"). `draw_paper` is
reproducible: the same pool, sections and seed always give the same paper. Questions are
grouped by section in rule order (the exam convention of 单选 → 多选 → 判断 → 填空), shuffled
within each section, and the options of choice questions are shuffled too.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

SHUFFLED_TYPES = ("single", "multiple")


@dataclass(frozen=True)
class PoolQuestion:
    id: int
    type: str
    topic: str
    difficulty: int
    doc: str
    option_keys: tuple[str, ...] = ()
    qid: str = ""


@dataclass(frozen=True)
class Section:
    type: str
    count: int
    doc: str | None = None
    topic: str | None = None
    difficulty: int | None = None

    def matches(self, q: PoolQuestion) -> bool:
        return (
            q.type == self.type
            and (self.doc is None or q.doc == self.doc)
            and (self.topic is None or q.topic == self.topic)
            and (self.difficulty is None or q.difficulty == self.difficulty)
        )

    @classmethod
    def from_dict(cls, data: dict) -> "Section":
        return cls(
            type=data["type"], count=int(data["count"]), doc=data.get("doc") or None,
            topic=data.get("topic") or None,
            difficulty=int(data["difficulty"]) if data.get("difficulty") else None,
        )

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PaperItem:
    question_id: int
    option_order: tuple[str, ...]


class PaperRuleError(ValueError):
    """The pool cannot satisfy the rules; `shortfalls` says which section lacks how many."""

    def __init__(self, shortfalls: list[str]):
        super().__init__("；".join(shortfalls))
        self.shortfalls = shortfalls


def available(sections: list[Section], pool: list[PoolQuestion]) -> list[tuple[Section, int]]:
    """How many pool questions each section could draw from, counting earlier sections' use."""
    taken: set[int] = set()
    counts = []
    for section in sections:
        candidates = [q.id for q in pool if section.matches(q) and q.id not in taken]
        counts.append((section, len(candidates)))
        taken.update(candidates[: section.count])
    return counts


def check_rules(sections: list[Section], pool: list[PoolQuestion]) -> list[str]:
    return [
        f"第 {i} 组（{s.type}，需要 {s.count} 题）只有 {n} 道可用题目"
        for i, (s, n) in enumerate(available(sections, pool), start=1)
        if n < s.count
    ]


def choose_questions(sections: list[Section], pool: list[PoolQuestion], seed: str) -> list[list[PoolQuestion]]:
    """The questions of each section, drawn with `seed`; raises PaperRuleError if short."""
    shortfalls = check_rules(sections, pool)
    if shortfalls:
        raise PaperRuleError(shortfalls)
    rng = random.Random(f"questions:{seed}")
    ordered_pool = sorted(pool, key=lambda q: q.id)
    taken: set[int] = set()
    chosen = []
    for section in sections:
        candidates = [q for q in ordered_pool if section.matches(q) and q.id not in taken]
        picked = rng.sample(candidates, section.count)
        taken.update(q.id for q in picked)
        chosen.append(picked)
    return chosen


def arrange(groups: list[list[PoolQuestion]], seed: str) -> list[PaperItem]:
    """Shuffle question order within each group and the options of choice questions."""
    rng = random.Random(f"order:{seed}")
    items = []
    for group in groups:
        group = sorted(group, key=lambda q: q.id)
        rng.shuffle(group)
        for q in group:
            order = list(q.option_keys)
            if q.type in SHUFFLED_TYPES:
                rng.shuffle(order)
            items.append(PaperItem(q.id, tuple(order)))
    return items


def draw_paper(sections: list[Section], pool: list[PoolQuestion], paper_seed: str, order_seed: str,
               avoid: frozenset[str] = frozenset()) -> list[PaperItem]:
    """A participant's paper. For a random draw per person pass a per-person `paper_seed`;
    for one fixed paper pass the round's seed as `paper_seed`. `order_seed` is per person.

    `avoid` (question ids the person saw in earlier rounds) is honoured section by section
    where the pool allows: a section that cannot be filled from unseen questions draws from
    all of them instead, rather than failing."""
    if not avoid:
        return arrange(choose_questions(sections, pool, paper_seed), order_seed)
    unseen = [q for q in pool if q.qid not in avoid]
    groups, taken = [], set()
    for section in sections:
        preferred = [q for q in unseen if q.id not in taken]
        source = preferred if not check_rules([section], preferred) else [q for q in pool if q.id not in taken]
        group = choose_questions([section], source, f"{paper_seed}:{len(groups)}")[0]
        taken.update(q.id for q in group)
        groups.append(group)
    return arrange(groups, order_seed)
