"""What the 体检 pages show, read from a kept report (quizapp.services.health) or, for one
unit, from a small live query: a unit's answers are a few thousand rows, and a live read
follows corrections by itself (it reads the stored points, which corrections re-score).

Templates display; these functions shape the rows. Nothing here writes.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from flask import current_app
from sqlalchemy import Float, Text, cast, func, select

from ..banks.docs import article_label, doc_title
from ..banks.sources import load_sources
from ..charts import heat_class
from ..extensions import db
from ..models import Attempt, AttemptItem, Question, Round, User
from ..rules.statistics import Cell, accuracy_grid, county_row, most_chosen_wrong
from .health import _answers, _full_points

MIN_MISSED_N = 3  # a question answered by fewer people is not called "most missed"


@lru_cache(maxsize=4)
def _sources(directory: str):
    try:
        return load_sources(directory) if directory else {}
    except (FileNotFoundError, ValueError):
        return {}


def article_text(doc: str, article: str) -> str:
    """The whole article from the official texts (SOURCES_DIR, read once per process); "" if absent."""
    docs = _sources(current_app.config.get("SOURCES_DIR") or "")
    source = docs.get(doc)
    if source is None:
        return ""
    found = source.articles.get(int(article) if str(article).isdigit() else article)
    return found.text if found else ""


def citation(doc: str, article: str) -> str:
    return f"{doc_title(doc)}{article_label(article)}"


@dataclass
class HeatRow:
    unit_id: int | None
    name: str
    registered: int = 0
    took_part: int = 0
    cells: list = field(default_factory=list)   # [(accuracy, answers, css class)]
    overall: float | None = None

    @property
    def participation(self) -> float | None:
        return self.took_part / self.registered if self.registered else None


def _grid(payload: dict, kind: str) -> dict:
    source = payload["by_doc"] if kind == "doc" else payload["by_topic"]
    return accuracy_grid((unit, column, total, n) for unit, cols in source.items() for column, (total, n) in cols.items())


def columns(payload: dict, kind: str, doc: str | None = None) -> list[tuple[str, str]]:
    """(column key, label): documents, or the chapters (topics) of one document."""
    if kind == "doc":
        return [(d["slug"], d["title"]) for d in payload["docs"]]
    return [(f"{d}\t{t}", t) for d, t in payload["topics"] if d == doc]


def heatmap(payload: dict, kind: str, doc: str | None = None, sort: str | None = None, descending: bool = False,
            group: str | None = None) -> tuple[list[tuple[str, str]], HeatRow, list[HeatRow]]:
    """(columns, county row, unit rows). The county cell is the answer-weighted mean of the
    unit cells (quizapp.rules.statistics.county_row). `sort` is a column key, "participation",
    "overall" or None (the units' own order); units with no answers in that column go last."""
    cols = columns(payload, kind, doc)
    grid = _grid(payload, kind)
    keys = [key for key, _ in cols]

    def cells_of(unit_cells: dict):
        cells = [unit_cells.get(key, Cell(0, 0)) for key in keys]
        total = Cell(sum(c.total for c in cells), sum(c.answers for c in cells))
        return [(c.accuracy, c.answers, heat_class(c.accuracy)) for c in cells], total.accuracy

    county_cells, county_overall = cells_of(county_row(grid))
    units = [u for u in payload["units"] if not group or u["group"] == group]
    county = HeatRow(None, "全县（各单位按答题数加权）", sum(u["registered"] for u in units),
                     sum(u["took_part"] for u in units), county_cells, county_overall)
    rows = []
    for unit in units:
        cells, overall = cells_of(grid.get(str(unit["id"]), {}))
        rows.append(HeatRow(unit["id"], unit["name"], unit["registered"], unit["took_part"], cells, overall))
    if sort:
        index = keys.index(sort) if sort in keys else None

        def value(row: HeatRow):
            v = row.participation if sort == "participation" else row.overall if index is None else row.cells[index][0]
            return (v is None, -(v or 0) if descending else (v or 0))
        rows.sort(key=value)
    return cols, county, rows


def county_items(items: list[dict], doc: str | None = None, topic: str | None = None, limit: int = 20) -> list[dict]:
    """The most-missed questions county-wide (lowest facility first; answered by ≥ MIN_MISSED_N),
    from the kept item table (the report's "items" part)."""
    items = [i for i in items if i["n"] >= MIN_MISSED_N and (not doc or i["doc"] == doc)
             and (not topic or i["topic"] == topic) and i["facility"] is not None and i["facility"] < 1]
    return items[:limit]


def unit_items(rounds: list[Round], unit_id: int, doc: str | None = None, topic: str | None = None,
               limit: int = 20) -> list[dict]:
    """A unit's most-missed questions (live: only the unit's answers are read), with the wrong
    answer its people chose most and how many chose it."""
    full = _full_points(rounds)
    x = cast(func.coalesce(AttemptItem.points, 0.0), Float) / full
    query = _answers(rounds, AttemptItem.question_id, cast(AttemptItem.response, Text), func.count(), func.sum(x)).join(
        User, User.id == Attempt.user_id).where(User.unit_id == unit_id)
    if doc:
        query = query.where(Question.source_doc == doc)
    if topic:
        query = query.where(Question.topic == topic)
    per_question: dict = defaultdict(lambda: {"n": 0, "total": 0.0, "responses": []})
    for q, text, n, total in db.session.execute(query.group_by(AttemptItem.question_id, cast(AttemptItem.response, Text))):
        entry = per_question[q]
        entry["n"] += n
        entry["total"] += float(total or 0)
        entry["responses"].append((json.loads(text) if text not in (None, "null") else None, n))
    rows = []
    for q in db.session.execute(select(Question.id, Question.qid, Question.type, Question.source_doc,
                                       Question.source_article, Question.topic, Question.stem, Question.answer)
                                .where(Question.id.in_(list(per_question)))):
        entry = per_question[q.id]
        facility = entry["total"] / entry["n"]
        if facility >= 1:
            continue
        wrong = most_chosen_wrong(entry["responses"], q.answer, q.type) if q.type != "fill" else None
        rows.append({"id": q.id, "qid": q.qid, "type": q.type, "doc": q.source_doc, "article": q.source_article,
                     "topic": q.topic, "stem": q.stem, "n": entry["n"], "facility": facility,
                     "wrong": list(wrong) if wrong else None})
    rows.sort(key=lambda r: (r["facility"], -r["n"], r["id"]))
    return rows[:limit]


def with_questions(items: list[dict]) -> list[dict]:
    """Items with what a study sheet needs: options, the key, 解析, the cited basis and the
    whole article text."""
    if not items:
        return []
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_([i["id"] for i in items])))}
    rows = []
    for item in items:
        q = questions[item["id"]]
        rows.append({**item, "options": q.options, "key": describe_key(q.type, q.answer), "explanation": q.explanation,
                     "basis": q.source_basis, "citation": citation(q.source_doc, q.source_article),
                     "article_text": article_text(q.source_doc, q.source_article)})
    return rows


def describe_key(qtype: str, answer) -> str:
    if qtype == "judge":
        return "正确" if answer else "错误"
    if qtype == "multiple":
        return "".join(answer)
    if qtype == "fill":
        return "；".join(" / ".join(v) for v in answer)
    return str(answer)


def weakest_articles(items: list[dict], limit: int = 10) -> list[dict]:
    """The articles whose questions were answered worst: accuracy over all answers to every
    question citing the article (answered by ≥ MIN_MISSED_N), lowest first, with its text."""
    by_article: dict = defaultdict(lambda: [0.0, 0, 0])
    for item in items:
        if item["facility"] is None:
            continue
        entry = by_article[(item["doc"], item["article"])]
        entry[0] += item["facility"] * item["n"]
        entry[1] += item["n"]
        entry[2] += 1
    rows = [{"doc": d, "article": a, "accuracy": t / n, "answers": n, "questions": k,
             "citation": citation(d, a), "text": article_text(d, a)}
            for (d, a), (t, n, k) in by_article.items() if n >= MIN_MISSED_N]
    rows.sort(key=lambda r: (r["accuracy"], -r["answers"], r["citation"]))
    return rows[:limit]


def unit_all_items(rounds: list[Round], unit_id: int) -> list[dict]:
    """Every question the unit's people answered, with the unit's facility (for its weakest articles)."""
    return unit_items(rounds, unit_id, limit=10**6) + _unit_perfect(rounds, unit_id)


def _unit_perfect(rounds: list[Round], unit_id: int) -> list[dict]:
    """The unit's questions everyone answered right (unit_items leaves them out), as items."""
    full = _full_points(rounds)
    x = cast(func.coalesce(AttemptItem.points, 0.0), Float) / full
    query = _answers(rounds, Question.id, Question.source_doc, Question.source_article, func.count(), func.sum(x)).join(
        User, User.id == Attempt.user_id).where(User.unit_id == unit_id).group_by(
        Question.id, Question.source_doc, Question.source_article)
    return [{"id": q, "doc": d, "article": a, "n": n, "facility": 1.0}
            for q, d, a, n, total in db.session.execute(query) if n and float(total or 0) >= n - 1e-9]


def unit_topic_cells(rounds: list[Round], unit_id: int) -> dict:
    """{"doc\tchapter": Cell} of one unit, read live (the unit's answers only)."""
    full = _full_points(rounds)
    x = cast(func.coalesce(AttemptItem.points, 0.0), Float) / full
    query = _answers(rounds, Question.source_doc, Question.topic, func.sum(x), func.count()).join(
        User, User.id == Attempt.user_id).where(User.unit_id == unit_id).group_by(Question.source_doc, Question.topic)
    return {f"{d}\t{t}": Cell(float(total or 0), n) for d, t, total, n in db.session.execute(query)}


def unit_vs_county(payload: dict, unit_id: int, kind: str, rounds: list[Round] | None = None) -> list[dict]:
    """Per document (or chapter: pass `rounds`, the unit's cells are read live): the unit's
    accuracy and answers beside the county's."""
    if kind == "doc":
        grid = _grid(payload, "doc")
        county, mine, cols = county_row(grid), grid.get(str(unit_id), {}), columns(payload, "doc")
    else:
        county = {k: Cell(t, n) for k, (t, n) in payload["county_topic"].items()}
        mine = unit_topic_cells(rounds, unit_id)
        cols = [(f"{d}\t{t}", f"{doc_title(d)} · {t}") for d, t in payload["topics"]]
    rows = []
    for key, label in cols:
        cell = mine.get(key)
        if cell is None or not cell.answers:
            continue
        rows.append({"key": key, "label": label, "unit": cell.accuracy, "answers": cell.answers,
                     "county": county[key].accuracy, "class": heat_class(cell.accuracy)})
    return rows


def unit_meta(payload: dict, unit_id: int) -> dict | None:
    return next((u for u in payload["units"] if u["id"] == unit_id), None)
