"""Coverage of bank files: questions by type, difficulty and topic (chapter), per bank."""
from __future__ import annotations

from collections import Counter

from .loader import TYPE_LABELS, BankFile

TYPES = ("single", "multiple", "judge", "fill")


def bank_stats(bank: BankFile) -> dict:
    """Counts for one bank: total, by type, by difficulty, by (topic, type), by (type, difficulty)."""
    questions = bank.questions
    return {
        "total": len(questions),
        "types": Counter(q.type for q in questions),
        "difficulty": Counter(q.difficulty for q in questions),
        "topics": Counter((q.topic, q.type) for q in questions),
        "type_difficulty": Counter((q.type, q.difficulty) for q in questions),
        "docs": Counter(q.source_doc for q in questions),
    }


def format_stats(bank: BankFile) -> list[str]:
    """Plain-text lines, one table per bank, for the terminal."""
    stats = bank_stats(bank)
    lines = [f"{bank.title}（{bank.bank_id}，{bank.path}）：共 {stats['total']} 题"]
    lines.append("  题型：" + "，".join(f"{TYPE_LABELS[t]} {stats['types'][t]}" for t in TYPES))
    lines.append("  难度：" + "，".join(f"{d} 级 {stats['difficulty'][d]}" for d in (1, 2, 3)))
    for t in TYPES:
        lines.append(f"    {TYPE_LABELS[t]}按难度：" + "，".join(
            f"{d} 级 {stats['type_difficulty'][(t, d)]}" for d in (1, 2, 3)))
    lines.append("  出处：" + "，".join(f"{doc} {n}" for doc, n in sorted(stats["docs"].items())))
    topics = list(dict.fromkeys(q.topic for q in bank.questions))
    width = max((len(t) for t in topics), default=4)
    lines.append("  " + "专题".ljust(width, "　") + "  单选 多选 判断 填空 合计")
    for topic in topics:
        counts = [stats["topics"][(topic, t)] for t in TYPES]
        lines.append("  " + topic.ljust(width, "　") + "  " + " ".join(f"{n:>4}" for n in counts) + f" {sum(counts):>4}")
    return lines
