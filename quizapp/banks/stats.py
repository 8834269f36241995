"""Coverage of bank files, per document and version: questions by chapter × type and by
difficulty, articles with no question, and the answer-key letter distribution.

A document and version may span several files (纪律处分条例 2023 is two banks); they are
counted together. Pure: banks and, optionally, the sources in; plain text lines out.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .docs import article_label
from .loader import TYPE_LABELS, BankFile, Question
from .sources import SourceDoc

TYPES = ("single", "multiple", "judge", "fill")


@dataclass
class Edition:
    """One document in one version, with every question of the banks on it."""

    document: str
    version: str
    in_force: bool
    banks: list[BankFile] = field(default_factory=list)

    @property
    def questions(self) -> list[Question]:
        return [q for bank in self.banks for q in bank.questions]


def editions(files: list[BankFile]) -> list[Edition]:
    """The banks grouped by (document, version), in the order first met."""
    found: dict[tuple[str, str], Edition] = {}
    for bank in files:
        key = (bank.document or bank.bank_id, bank.version)
        found.setdefault(key, Edition(key[0], bank.version, bank.in_force)).banks.append(bank)
    return list(found.values())


def edition_stats(edition: Edition, sources: dict[str, SourceDoc] | None = None) -> dict:
    questions = edition.questions
    cited = Counter(q.source_doc for q in questions)
    uncovered = {}
    if sources is not None:
        for slug in cited:
            doc = sources.get(slug)
            if doc is None:
                continue
            covered = {q.source_article for q in questions if q.source_doc == slug}
            uncovered[slug] = [key for key in doc.articles if str(key) not in covered]
    return {
        "total": len(questions),
        "types": Counter(q.type for q in questions),
        "difficulty": Counter(q.difficulty for q in questions),
        "type_difficulty": Counter((q.type, q.difficulty) for q in questions),
        "chapters": Counter((q.topic, q.type) for q in questions),
        "cited": cited,
        "uncovered": uncovered,
        "single_keys": Counter(q.answer for q in questions if q.type == "single"),
        "multiple_keys": Counter("".join(q.answer) for q in questions if q.type == "multiple"),
    }


def format_edition(edition: Edition, sources: dict[str, SourceDoc] | None = None) -> list[str]:
    """Plain-text lines, one table per document and version, for the terminal."""
    stats = edition_stats(edition, sources)
    state = "现行有效" if edition.in_force else "已失效"
    files = "、".join(f"{b.bank_id}" for b in edition.banks)
    lines = [f"《{edition.document}》{edition.version}年版（{state}；题库 {files}）：共 {stats['total']} 题"]
    lines.append("  题型：" + "，".join(f"{TYPE_LABELS[t]} {stats['types'][t]}" for t in TYPES))
    lines.append("  难度：" + "，".join(f"{d} 级 {stats['difficulty'][d]}" for d in (1, 2, 3)))
    for t in TYPES:
        lines.append(f"    {TYPE_LABELS[t]}按难度：" + "，".join(
            f"{d} 级 {stats['type_difficulty'][(t, d)]}" for d in (1, 2, 3)))
    singles = sum(stats["single_keys"].values())
    if singles:
        lines.append("  单选答案字母：" + "，".join(f"{letter} {n}（{n / singles:.0%}）"
                                           for letter, n in sorted(stats["single_keys"].items())))
    multiples = sum(stats["multiple_keys"].values())
    if multiples:
        top = stats["multiple_keys"].most_common(6)
        lines.append(f"  多选答案（最多的 6 种，共 {multiples} 道）：" + "，".join(f"{key} {n}" for key, n in top))
    topics = list(dict.fromkeys(q.topic for q in edition.questions))
    width = max((len(t) for t in topics), default=4)
    lines.append("  " + "章（专题）".ljust(width, "　") + "  单选 多选 判断 填空 合计")
    for topic in topics:
        counts = [stats["chapters"][(topic, t)] for t in TYPES]
        lines.append("  " + topic.ljust(width, "　") + "  " + " ".join(f"{n:>4}" for n in counts) + f" {sum(counts):>4}")
    for slug, keys in stats["uncovered"].items():
        doc = sources[slug] if sources else None
        total = len(doc.articles) if doc else 0
        if keys:
            lines.append(f"  {slug}：{total} 条中 {len(keys)} 条没有题目：" + "、".join(
                article_label(str(k)) for k in keys[:60]) + ("……" if len(keys) > 60 else ""))
        else:
            lines.append(f"  {slug}：全部 {total} 条都有题目")
    return lines
