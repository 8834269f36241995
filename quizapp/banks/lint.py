"""Lint a set of bank files: format errors, duplicates across files, and — given the source
texts — that every citation exists and its basis is verbatim in the cited article.

Contract: `lint_paths(paths, sources)` returns (bank files, errors). The errors list is empty
exactly when every file may be imported; each error names file, line and question id. The
writing rules (key letters, give-aways, versions, near-duplicates) are in `quality`.
"""
from __future__ import annotations

from pathlib import Path

from ..text import normalize_answer
from .loader import BankError, BankFile, Question, load_bank
from .quality import quality_errors
from .sources import SourceDoc, squash


def bank_paths(paths: list[str | Path]) -> list[Path]:
    """Expand directories into their *.yaml / *.yml files (sorted); keep files as given."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            found.extend(sorted(p for p in entry.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            found.append(entry)
    return found


def lint_paths(paths, sources: dict[str, SourceDoc] | None = None) -> tuple[list[BankFile], list[BankError]]:
    files = [load_bank(p) for p in bank_paths(paths)]
    errors = [e for f in files for e in f.errors]
    errors.extend(cross_file_errors(files))
    errors.extend(quality_errors(files, sources))
    if sources is not None:
        for bank in files:
            for question in bank.questions:
                errors.extend(
                    BankError(bank.path, question.line, question.qid, message)
                    for message in check_citation(question, sources)
                )
    return files, errors


def cross_file_errors(files: list[BankFile]) -> list[BankError]:
    """Duplicate bank ids, question ids and (normalised) stems across all files."""
    errors = []
    banks: dict[str, str] = {}
    ids: dict[str, str] = {}
    stems: dict[str, str] = {}
    for bank in files:
        if bank.bank_id and bank.bank_id in banks:
            errors.append(BankError(bank.path, 1, "", f"题库 id {bank.bank_id} 与 {banks[bank.bank_id]} 重复"))
        banks.setdefault(bank.bank_id, bank.path)
        for q in bank.questions:
            where = f"{bank.path}:{q.line}"
            if q.qid in ids and ids[q.qid] != where:
                errors.append(BankError(bank.path, q.line, q.qid, f"题目 id 与 {ids[q.qid]} 重复"))
            ids.setdefault(q.qid, where)
            key = q.type + ":" + normalize_answer(q.stem)
            if key in stems:
                errors.append(BankError(bank.path, q.line, q.qid, f"题干与 {stems[key]} 重复或几乎相同"))
            else:
                stems[key] = f"{where} [{q.qid}]"
    return errors


def check_citation(q: Question, sources: dict[str, SourceDoc]) -> list[str]:
    """Messages for every way the question's citation fails to support its answer."""
    doc = sources.get(q.source_doc)
    if doc is None:
        return [f"source.doc {q.source_doc!r} 不在原文索引中"]
    key = int(q.source_article) if q.source_article.isdigit() else q.source_article
    article = doc.articles.get(key)
    if article is None:
        return [f"《{doc.title or doc.slug}》中没有第 {q.source_article} 条"]
    problems = []
    if not article.contains(q.source_basis):
        problems.append(f"source.basis 不是第 {q.source_article} 条原文的逐字摘录：{q.source_basis[:30]}…")
    if q.type == "fill":
        basis = squash(q.source_basis)
        for number, variants in enumerate(q.answer, start=1):
            if not any(squash(v) in basis for v in variants):
                problems.append(f"第 {number} 个空的答案不在 source.basis 中")
    if q.type in ("single", "multiple"):
        texts = dict(q.options)
        article_text = squash(article.text)
        for key in [q.answer] if q.type == "single" else q.answer:
            if squash(texts.get(key, "")) not in article_text:
                problems.append(f"正确选项 {key}「{texts.get(key, '')}」在所引条文中找不到")
    return problems
