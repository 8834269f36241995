"""What practice can draw from: documents, their versions and chapters, and the articles'
text — both kept per process, neither read from the database or disk per request.

A chapter is a question's `topic` within its document version (the banks' own chapter
names, as the 体检 uses them). Practice offers the versions in force; a superseded version
is offered only when the person picks that version by name (`catalog()` lists it apart).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from ..banks.docs import article_label, doc_title
from ..banks.sources import load_sources
from ..papers import PoolQuestion
from .drawing import question_pool

_SOURCES: dict[str, dict] = {}


def _articles() -> dict:
    """slug → {article key → Article}, loaded once per sources folder (and process)."""
    folder = current_app.config.get("SOURCES_DIR") or ""
    if folder not in _SOURCES:
        try:
            docs = load_sources(folder) if folder and Path(folder).is_dir() else {}
        except (OSError, ValueError):
            docs = {}  # unreadable sources: citations still show, without the article's text
        _SOURCES[folder] = {slug: doc.articles for slug, doc in docs.items()}
    return _SOURCES[folder]


def article(source_doc: str, source_article: str) -> dict:
    """The citation and the article's text for display: {"citation", "chapter", "text"};
    "text" is "" when the sources are not available or do not hold that article."""
    key = int(source_article) if str(source_article).isdigit() else source_article
    found = _articles().get(source_doc, {}).get(key)
    return {"citation": f"{doc_title(source_doc)}{article_label(source_article)}",
            "chapter": found.chapter if found else "", "text": found.text if found else ""}


@dataclass
class Version:
    version: str
    in_force: bool
    chapters: list[tuple[str, int]] = field(default_factory=list)  # (topic, questions), bank order

    @property
    def total(self) -> int:
        return sum(n for _, n in self.chapters)


@dataclass
class Document:
    name: str
    versions: list[Version] = field(default_factory=list)

    @property
    def in_force(self) -> list[Version]:
        return [v for v in self.versions if v.in_force]

    @property
    def superseded(self) -> list[Version]:
        return [v for v in self.versions if not v.in_force]


def catalog() -> list[Document]:
    """Every document with usable questions, its versions (in force first, newest first) and
    each version's chapters in bank order (the order of the chapter's first question)."""
    counts: dict = defaultdict(lambda: defaultdict(int))
    forces: dict = {}
    for q in question_pool():
        counts[(q.document, q.edition)][q.topic] += 1
        forces[(q.document, q.edition)] = q.in_force
    documents: dict[str, Document] = {}
    for (name, version), topics in counts.items():
        documents.setdefault(name, Document(name)).versions.append(
            Version(version, forces[(name, version)], list(topics.items())))
    for document in documents.values():
        document.versions.sort(key=lambda v: (not v.in_force, [-ord(c) for c in v.version]))
    return sorted(documents.values(), key=lambda d: d.name)


def chapter_pool(document: str, version: str | None, topic: str | None) -> list[PoolQuestion]:
    """The usable questions of a document's versions in force (`version` None) or of that one
    version, in one chapter (`topic`) or all."""
    return [q for q in question_pool()
            if q.document == document and (q.in_force if version is None else q.edition == version)
            and (topic is None or q.topic == topic)]


def in_force_pool() -> list[PoolQuestion]:
    return [q for q in question_pool() if q.in_force]


def chapter_key(question: PoolQuestion) -> str:
    return f"{question.document}\t{question.topic}"
