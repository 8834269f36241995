"""What the quiz and result pages show for each item.

`quiz_items` is the only data the quiz page gets: stems, option texts in the shown order
with display letters, and the participant's own saved responses. It never contains an
answer key, a bank option letter or a question id, so the page cannot leak the key.
The quiz page carries them as JSON (`paper_json`) that quiz.js turns into the questions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from ..banks.loader import BLANK, TYPE_LABELS
from ..extensions import db
from ..models import Attempt, AttemptItem, Question
from ..services.attempts import to_display_response


@dataclass
class QuizItem:
    position: int
    type: str
    stem_parts: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)
    response: object = None
    flagged: bool = False


def _shown_options(option_order: list[str], options: list) -> list[tuple[str, str]]:
    texts = dict((key, text) for key, text in options)
    return [(chr(ord("A") + i), texts[key]) for i, key in enumerate(option_order)]


def _items(attempt: Attempt) -> list[AttemptItem]:
    """The attempt's items with their questions, in two queries (not one per question)."""
    return db.session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt.id).order_by(AttemptItem.position)
        .options(selectinload(AttemptItem.question))
    ).all()


def _quiz_item(position, qtype, stem, options, option_order, response, flagged) -> QuizItem:
    return QuizItem(
        position=position, type=qtype, stem_parts=stem.split(BLANK) if qtype == "fill" else [stem],
        options=_shown_options(option_order, options),
        response=to_display_response(qtype, option_order, response), flagged=flagged,
    )


_QUIZ_READ = (
    select(AttemptItem.position, Question.type, Question.stem, Question.options, AttemptItem.option_order,
           AttemptItem.response, AttemptItem.flagged)
    .join(Question, Question.id == AttemptItem.question_id)
    .where(AttemptItem.attempt_id == bindparam("attempt_id")).order_by(AttemptItem.position)
)


def quiz_items(attempt: Attempt) -> list[QuizItem]:
    """What the quiz page shows, read in one query of just the columns it needs: the page is
    loaded by everyone at the 9:00 start."""
    return [_quiz_item(*row) for row in db.session.execute(_QUIZ_READ, {"attempt_id": attempt.id})]


def started_items(rows: list[tuple]) -> list[QuizItem]:
    """What the quiz page shows of an attempt started just now (`services.starting.Started`
    rows): its questions, nothing answered or flagged yet."""
    return [_quiz_item(position, qtype, stem, options, order, None, False)
            for position, qtype, stem, options, order in rows]


@dataclass
class QuizPage:
    """Everything quiz.html shows, as plain values: the page is rendered after the start's
    commit without loading the attempt, its round or its team again."""
    attempt_id: int
    round_name: str
    team_name: str | None
    remaining: int
    paper: Markup


def paper_json(items: list[QuizItem]) -> Markup:
    """The quiz items as JSON safe inside <script type="application/json">: <, >, & and '
    are escaped, so no bank text can close the element. quiz.js puts every text into the
    page as text (never as HTML). Rendering 50 questions in the browser instead of the
    template takes most of the quiz page's cost off the server at the 9:00 start."""
    rows = [{"position": i.position, "type": i.type, "label": TYPE_LABELS[i.type], "stem_parts": i.stem_parts,
             "options": i.options, "response": i.response, "flagged": i.flagged} for i in items]
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return Markup(text)


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
    for item in _items(attempt):
        question = item.question
        quiz = _quiz_item(item.position, question.type, question.stem, question.options, item.option_order,
                          item.response, item.flagged)
        key = to_display_response(question.type, item.option_order, question.answer)
        rows.append(ResultItem(
            quiz=quiz, correct=_describe(question.type, key), given=_describe(question.type, quiz.response),
            points=item.points, full=float(points.get(question.type, 0)), explanation=question.explanation,
            source_doc=question.source_doc, source_article=question.source_article,
            source_basis=question.source_basis,
        ))
    return rows
