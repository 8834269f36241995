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


SECTION_TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}


def _shortfall(number: int, section: Section, available_count: int) -> str:
    # Organizers read this (the round page, a refused opening): the type in Chinese, never its code.
    kind = SECTION_TYPE_NAMES.get(section.type, "其他题型")
    return f"第 {number} 组（{kind}，需要 {section.count} 道）只有 {available_count} 道可用题目"


def check_rules(sections: list[Section], pool: list[PoolQuestion]) -> list[str]:
    return [_shortfall(i, s, n) for i, (s, n) in enumerate(available(sections, pool), start=1) if n < s.count]


def choose_questions(sections: list[Section], pool: list[PoolQuestion], seed: str) -> list[list[PoolQuestion]]:
    """The questions of each section, drawn with `seed`; raises PaperRuleError if short."""
    return Drawer(sections, pool).choose(seed)


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


class Drawer:
    """Draws many papers from one pool by one set of sections.

    Which pool questions each section may use is worked out once (ordered by id), so a round
    that draws thousands of papers at opening pays for filtering the pool once, not per
    person. Every draw is the same as a fresh `draw_paper` with the same arguments."""

    def __init__(self, sections: list[Section], pool: list[PoolQuestion]):
        self.sections = sections
        ordered = sorted(pool, key=lambda q: q.id)
        self.candidates = [[q for q in ordered if s.matches(q)] for s in sections]
        self.shortfalls = check_rules(sections, pool)

    def choose(self, seed: str) -> list[list[PoolQuestion]]:
        """The questions of each section, drawn with `seed`; raises PaperRuleError if short."""
        if self.shortfalls:
            raise PaperRuleError(self.shortfalls)
        rng = random.Random(f"questions:{seed}")
        taken: set[int] = set()
        chosen = []
        for section, candidates in zip(self.sections, self.candidates):
            picked = rng.sample([q for q in candidates if q.id not in taken] if taken else candidates, section.count)
            taken.update(q.id for q in picked)
            chosen.append(picked)
        return chosen

    def draw(self, paper_seed: str, order_seed: str, avoid: frozenset[str] = frozenset()) -> list[PaperItem]:
        """A participant's paper; see `draw_paper`."""
        if not avoid:
            return arrange(self.choose(paper_seed), order_seed)
        groups, taken = [], set()
        for index, (section, candidates) in enumerate(zip(self.sections, self.candidates)):
            free = [q for q in candidates if q.id not in taken]
            preferred = [q for q in free if q.qid not in avoid]
            source = preferred if len(preferred) >= section.count else free
            if len(source) < section.count:
                raise PaperRuleError([_shortfall(index + 1, section, len(source))])
            group = random.Random(f"questions:{paper_seed}:{index}").sample(source, section.count)
            taken.update(q.id for q in group)
            groups.append(group)
        return arrange(groups, order_seed)


def draw_paper(sections: list[Section], pool: list[PoolQuestion], paper_seed: str, order_seed: str,
               avoid: frozenset[str] = frozenset()) -> list[PaperItem]:
    """A participant's paper. For a random draw per person pass a per-person `paper_seed`;
    for one fixed paper pass the round's seed as `paper_seed`. `order_seed` is per person.

    `avoid` (question ids the person saw in earlier rounds) is honoured section by section
    where the pool allows: a section that cannot be filled from unseen questions draws from
    all of them instead, rather than failing."""
    return Drawer(sections, pool).draw(paper_seed, order_seed, avoid)
