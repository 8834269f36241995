"""What the quiz and result pages show for each item.

`quiz_items` is the only data the quiz page gets: stems, option texts in the shown order
with display letters, and the participant's own saved responses. It never contains an
answer key, a bank option letter or a question id, so the page cannot leak the key.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..banks.loader import BLANK
from ..extensions import db
from ..models import Attempt, AttemptItem
from ..services.attempts import to_display_response


@dataclass
class QuizItem:
    position: int
    type: str
    stem_parts: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)
    response: object = None
    flagged: bool = False


def _shown_options(item: AttemptItem) -> list[tuple[str, str]]:
    texts = dict((key, text) for key, text in item.question.options)
    return [(chr(ord("A") + i), texts[key]) for i, key in enumerate(item.option_order)]


def _items(attempt: Attempt) -> list[AttemptItem]:
    """The attempt's items with their questions, in two queries (not one per question)."""
    return db.session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt.id).order_by(AttemptItem.position)
        .options(selectinload(AttemptItem.question))
    ).all()


def quiz_items(attempt: Attempt, items: list[AttemptItem] | None = None) -> list[QuizItem]:
    return [
        QuizItem(
            position=item.position, type=item.question.type,
            stem_parts=item.question.stem.split(BLANK) if item.question.type == "fill" else [item.question.stem],
            options=_shown_options(item),
            response=to_display_response(item.question, item.option_order, item.response),
            flagged=item.flagged,
        )
        for item in (items if items is not None else _items(attempt))
    ]


@dataclass
class ResultItem:
    quiz: QuizItem
    correct: str
    given: str
    points: float | None
    full: float
    explanation: str
    source_doc: str
    source_article: str
    source_basis: str


def _describe(qtype: str, value) -> str:
    if value is None or value == [] or value == "":
        return "未作答"
    if qtype == "judge":
        return "正确" if value else "错误"
    if qtype == "multiple":
        return "".join(value)
    if qtype == "fill":
        return "；".join(v if isinstance(v, str) else " / ".join(v) for v in value)
    return str(value)


def result_items(attempt: Attempt) -> list[ResultItem]:
    """Items with correct answers and explanations: only for rounds whose answers are released."""
    points = attempt.round.points
    rows = []
    items = _items(attempt)
    for quiz, item in zip(quiz_items(attempt, items), items, strict=True):
        question = item.question
        key = to_display_response(question, item.option_order, question.answer)
        rows.append(ResultItem(
            quiz=quiz, correct=_describe(question.type, key), given=_describe(question.type, quiz.response),
            points=item.points, full=float(points.get(question.type, 0)), explanation=question.explanation,
            source_doc=question.source_doc, source_article=question.source_article,
            source_basis=question.source_basis,
        ))
    return rows
