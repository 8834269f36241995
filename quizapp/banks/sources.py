"""Official source texts (../shared/sources/*.md), split article by article.

A source file is Markdown with one article per `第X条` line (followed by an ASCII or
ideographic space) and any number of continuation paragraphs. An article ends at the next
article line, at a part, chapter or section heading (`第X编`, `第X章`, `第X节`, with or without `#`), or at the
end of the file. Article numbers run on by one: an out-of-sequence `第X条` line is a quotation
inside the current article (amendment texts quote the articles they insert). The unnumbered opening parts — 党章 总纲 and 宪法 序言 — are keyed by their
names and run from their marker line to the first chapter heading.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

ARTICLE_LINE = re.compile(r"^第([零〇一二两三四五六七八九十百千]+)条[ 　](.*)$")
HEADING_LINE = re.compile(r"^#*\s*第[零〇一二三四五六七八九十百]+[编章节]")
PREAMBLE_NAMES = ("总纲", "序言")
_MARKUP = re.compile(r"<!--.*?-->")
_SPACE = re.compile(r"\s+")


def chinese_to_int(text: str) -> int:
    """Convert a Chinese numeral such as 一百二十三 or 十五 to an int (up to the thousands)."""
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (digit or 1) * _UNITS[char]
            digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text}")
    return total + digit


def squash(text: str) -> str:
    """Text with layout markup and all whitespace removed: the form used to compare excerpts."""
    return _SPACE.sub("", _MARKUP.sub("", text))


@dataclass
class Article:
    """One article: its key (int number, or 总纲/序言), paragraphs, and the heading it sits under."""

    key: int | str
    paragraphs: list[str] = field(default_factory=list)
    chapter: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    def contains(self, excerpt: str) -> bool:
        """True when `excerpt` (whitespace ignored) lies inside one paragraph of the article."""
        needle = squash(excerpt)
        return bool(needle) and any(needle in squash(p) for p in self.paragraphs)


@dataclass
class SourceDoc:
    slug: str
    title: str
    articles: dict[int | str, Article]


def parse_source(slug: str, text: str, title: str = "") -> SourceDoc:
    """Split one source file into articles keyed by number (and 总纲/序言 where present)."""
    articles: dict[int | str, Article] = {}
    current: Article | None = None
    last_number: int | None = None
    chapter = ""
    for raw in text.splitlines():
        line = _MARKUP.sub("", raw).strip()
        if not line:
            continue
        bare = line.lstrip("#").strip()
        match = ARTICLE_LINE.match(bare)
        if match:
            number = chinese_to_int(match.group(1))
            if last_number is None or number == last_number + 1:
                current = Article(number, [match.group(2).strip()], chapter)
                articles[number] = current
                last_number = number
                continue
            # Out of sequence: an amendment quoting the article it inserts. It is part of the
            # amendment article being read, not an article of its own.
            if current is not None:
                current.paragraphs.append(bare)
        elif HEADING_LINE.match(line):
            chapter = bare
            current = None
        elif bare in PREAMBLE_NAMES and bare not in articles and not articles:
            current = Article(bare, [], bare)
            articles[bare] = current
        elif current is not None:
            current.paragraphs.append(bare)
    return SourceDoc(slug, title, articles)


def load_sources(directory: str | Path) -> dict[str, SourceDoc]:
    """Load the documents of `directory`, keyed by slug.

    With an `index.json` (slug → {"file", "title"}), exactly the documents it lists; without
    one, every `*.md` file, its slug being the file name without `.md` and its title the first
    heading. Raises FileNotFoundError naming a missing directory or listed file.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: 原文目录不存在")
    index_path = directory / "index.json"
    if index_path.is_file():
        index = json.loads(index_path.read_text(encoding="utf-8"))
    else:
        index = {path.stem: {"file": path.name, "title": _first_heading(path)}
                 for path in sorted(directory.glob("*.md")) if path.name.lower() != "readme.md"}
    docs = {}
    for slug, meta in index.items():
        path = directory / meta.get("file", f"{slug}.md")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: index.json 列出的原文文件不存在")
        docs[slug] = parse_source(slug, path.read_text(encoding="utf-8"), meta.get("title", ""))
    return docs


def _first_heading(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            return line.lstrip("#").strip()
    return path.stem
