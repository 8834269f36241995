"""Drawing a paper from the question pool by a round's rules. Pure: no Flask, no database.

A rule is a list of sections ("20 单选 from 监察法, difficulty 2"). `draw_paper` is
reproducible: the same pool, sections and seed always give the same paper. Questions are
grouped by section in rule order (the exam convention of 单选 → 多选 → 判断 → 填空), shuffled
within each section, and the options of choice questions are shuffled too.

Questions that share a `group` (near-duplicates, or pairs that give each other's answers away)
are never drawn onto one paper: a paper takes at most one question of each group.

Versions: a section draws only from versions in force unless it says `include_superseded`
(the organizer's explicit choice), and a paper never mixes two versions of one document (2018
and 2024 《监察法》 contradict each other on some rules) unless the round allows that too
(`version_problems`).
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
    group: str = ""
    in_force: bool = True
    document: str = ""  # the document whatever its version (监察法), to tell versions apart
    edition: str = ""   # its version (2024)


@dataclass(frozen=True)
class Section:
    type: str
    count: int
    doc: str | None = None
    topic: str | None = None
    difficulty: int | None = None
    include_superseded: bool = False

    def matches(self, q: PoolQuestion) -> bool:
        return (
            q.type == self.type
            and (q.in_force or self.include_superseded)
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
            include_superseded=bool(data.get("include_superseded")),
        )

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None and v is not False}


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
    used_groups: set[str] = set()
    counts = []
    for section in sections:
        candidates = _one_per_group([q for q in pool if section.matches(q) and q.id not in taken], used_groups)
        counts.append((section, len(candidates)))
        taken.update(q.id for q in candidates[: section.count])
        used_groups.update(q.group for q in candidates[: section.count] if q.group)
    return counts


def _one_per_group(candidates: list[PoolQuestion], used: set[str]) -> list[PoolQuestion]:
    """Candidates, keeping the first of each group and none of a group already on the paper."""
    seen, kept = set(used), []
    for q in candidates:
        if q.group:
            if q.group in seen:
                continue
            seen.add(q.group)
        kept.append(q)
    return kept


def _pick(rng: random.Random, candidates: list[PoolQuestion], count: int, used: set[str]) -> list[PoolQuestion]:
    """`count` candidates at random, at most one per group (and none of a group in `used`).
    Without groups this is exactly `rng.sample`, so papers of ungrouped pools are unchanged."""
    if not used and not any(q.group for q in candidates):
        return rng.sample(candidates, count)
    picked, groups = [], set(used)
    for q in rng.sample(candidates, len(candidates)):
        if q.group and q.group in groups:
            continue
        picked.append(q)
        if q.group:
            groups.add(q.group)
        if len(picked) == count:
            return picked
    raise PaperRuleError([f"同组题目过多，无法为一份试卷抽出 {count} 道互不同组的题目"])


SECTION_TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}


def _shortfall(number: int, section: Section, available_count: int) -> str:
    # Organizers read this (the round page, a refused opening): the type in Chinese, never its code.
    kind = SECTION_TYPE_NAMES.get(section.type, "其他题型")
    return f"第 {number} 组（{kind}，需要 {section.count} 道）只有 {available_count} 道可用题目"


def version_problems(sections: list[Section], pool: list[PoolQuestion], allow_mixed: bool = False) -> list[str]:
    """Why these sections may not be drawn as they stand (Chinese), or [] if they may."""
    problems = []
    # Sources only superseded banks ask about (a source may also serve a bank in force).
    superseded = {q.doc for q in pool if not q.in_force} - {q.doc for q in pool if q.in_force}
    named = [s.doc for s in sections if s.doc in superseded and not s.include_superseded]
    if named:
        problems.append("出题范围是已失效的版本（" + "、".join(dict.fromkeys(named)) + "）：如确需使用，请勾选「允许抽取已失效的版本」")
    versions: dict[str, set[str]] = {}
    for section in sections:
        for q in pool:
            if section.matches(q):
                versions.setdefault(q.document or q.doc, set()).add(f"{q.edition}年版" if q.edition else q.doc)
    mixed = {document: docs for document, docs in versions.items() if len(docs) > 1}
    if mixed and not allow_mixed:
        for document, docs in sorted(mixed.items()):
            problems.append(f"本轮会同时抽到《{document}》的不同版本（{'、'.join(sorted(docs))}）：新旧版本的规定不同，"
                            "同一份试卷可能自相矛盾。请只用一个版本；确需对比新旧版本时勾选「允许同一文件的不同版本同卷出现」")
    return problems


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
        groups: set[str] = set()
        chosen = []
        for section, candidates in zip(self.sections, self.candidates):
            picked = _pick(rng, [q for q in candidates if q.id not in taken] if taken else candidates, section.count, groups)
            taken.update(q.id for q in picked)
            groups.update(q.group for q in picked if q.group)
            chosen.append(picked)
        return chosen

    def draw(self, paper_seed: str, order_seed: str, avoid: frozenset[str] = frozenset()) -> list[PaperItem]:
        """A participant's paper; see `draw_paper`."""
        if not avoid:
            return arrange(self.choose(paper_seed), order_seed)
        sections, taken, used = [], set(), set()
        for index, (section, candidates) in enumerate(zip(self.sections, self.candidates)):
            free = [q for q in candidates if q.id not in taken and not (q.group and q.group in used)]
            preferred = [q for q in free if q.qid not in avoid]
            source = preferred if len(_one_per_group(preferred, used)) >= section.count else free
            if len(_one_per_group(source, used)) < section.count:
                raise PaperRuleError([_shortfall(index + 1, section, len(_one_per_group(source, used)))])
            picked = _pick(random.Random(f"questions:{paper_seed}:{index}"), source, section.count, used)
            taken.update(q.id for q in picked)
            used.update(q.group for q in picked if q.group)
            sections.append(picked)
        return arrange(sections, order_seed)


def draw_paper(sections: list[Section], pool: list[PoolQuestion], paper_seed: str, order_seed: str,
               avoid: frozenset[str] = frozenset()) -> list[PaperItem]:
    """A participant's paper. For a random draw per person pass a per-person `paper_seed`;
    for one fixed paper pass the round's seed as `paper_seed`. `order_seed` is per person.

    `avoid` (question ids the person saw in earlier rounds) is honoured section by section
    where the pool allows: a section that cannot be filled from unseen questions draws from
    all of them instead, rather than failing."""
    return Drawer(sections, pool).draw(paper_seed, order_seed, avoid)
