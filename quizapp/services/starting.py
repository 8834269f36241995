"""The 9:00 start in one request: 开始 creates the attempt from the paper prepared when the
round opened, makes this browser its answering device, and returns what the quiz page shows.

Everyone presses 开始 within the same minute, so this path counts round trips to the database.
`signed_in_start` reads, in one query, what the session's user loader, the round's lookup
and the prepared paper's would have: the signed-in person (active, a participant, the
session's version current), the round, their prepared paper and any attempt already started.
Then the attempt, its items and the start event are written and the page's questions read
back — on PostgreSQL in a single statement, elsewhere in four — and committed. On PostgreSQL
both run on an autocommit connection (each statement its own transaction: no BEGIN, no
COMMIT), so a start is two round trips. Nothing here goes through the ORM's unit of work. Every other case (a paper not prepared, a shared-paper team round, an attempt already
started, a start that loses a race) takes `attempts.start_attempt`, and the caller shows that
attempt's page the ordinary way.

Guarantees are those of `attempts.start_attempt` and `attempts.open_on_device`: the same
refusals (`entry.refusal`), exactly the prepared paper (copied inside the database), one
attempt per person (the unique constraint; a lost race rolls back and returns the winner),
and a fresh device token with a "start" event. The rows read back carry no answer key.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, Integer, String, Text, and_, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..access import live_participant
from ..extensions import db
from ..models import Attempt, AttemptEvent, AttemptItem, PreparedPaper, Question, Round, User
from . import ServiceError, entry
from .attempts import start_attempt
from .drawing import copy_prepared_items


@dataclass
class Started:
    """A new attempt, open on this device, and its paper as the quiz page shows it:
    rows of (position, type, stem, options, option_order), responses all empty."""
    attempt_id: int
    device_token: str
    deadline_at: datetime
    rows: list[tuple]


_PREPARED = (
    select(PreparedPaper.id.label("paper_id"), PreparedPaper.max_score, Attempt.id.label("attempt_id"))
    .outerjoin(Attempt, and_(Attempt.round_id == PreparedPaper.round_id, Attempt.user_id == PreparedPaper.user_id))
    .where(PreparedPaper.round_id == bindparam("round_id"), PreparedPaper.user_id == bindparam("user_id"))
)
# The person as quizapp.access.init_login's loader accepts them, with the round, the prepared
# paper and any attempt already started: three look-ups and the user load in one query.
_SIGNED_IN = (
    select(Round, User, PreparedPaper.id.label("paper_id"), PreparedPaper.max_score, Attempt.id.label("attempt_id"))
    .select_from(Round).join(User, and_(User.id == bindparam("user_id"), live_participant("version")))
    .outerjoin(PreparedPaper, and_(PreparedPaper.round_id == Round.id, PreparedPaper.user_id == User.id))
    .outerjoin(Attempt, and_(Attempt.round_id == Round.id, Attempt.user_id == User.id))
    .where(Round.id == bindparam("round_id"))
)
_NEW_ATTEMPT = insert(Attempt).returning(Attempt.id)
_START_EVENT = insert(AttemptEvent)
_PAGE_COLUMNS = {"position": Integer, "type": String, "stem": Text, "options": JSON, "option_order": JSON}

# PostgreSQL: the attempt, its items copied from the prepared paper, the start event and the
# page's questions in one statement (data-modifying CTEs), so one round trip does what would
# otherwise take four.
_PG_START = text("""
WITH new_attempt AS (
  INSERT INTO attempt (round_id, user_id, status, started_at, deadline_at, max_score, device_token)
  VALUES (:round_id, :user_id, 'in_progress', :now, :deadline, :max_score, :token) RETURNING id
), items AS (
  INSERT INTO attempt_item (attempt_id, position, question_id, option_order, flagged)
  SELECT new_attempt.id, t.n, (t.item->>0)::int, t.item->1, false
  FROM new_attempt, prepared_paper,
       json_array_elements(prepared_paper.items) WITH ORDINALITY AS t(item, n)
  WHERE prepared_paper.id = :paper
  RETURNING attempt_id, position, question_id, option_order
), event AS (
  INSERT INTO attempt_event (attempt_id, user_id, kind, at, ip, user_agent)
  SELECT new_attempt.id, :user_id, 'start', :now, :ip, :user_agent FROM new_attempt
)
SELECT items.attempt_id, items.position, question.type, question.stem, question.options, items.option_order
FROM items JOIN question ON question.id = items.question_id ORDER BY items.position
""").columns(attempt_id=Integer, **_PAGE_COLUMNS)

_PAGE_READ = (
    select(AttemptItem.position, Question.type, Question.stem, Question.options, AttemptItem.option_order)
    .join(Question, Question.id == AttemptItem.question_id)
    .where(AttemptItem.attempt_id == bindparam("attempt_id")).order_by(AttemptItem.position)
)


def signed_in_start(round_id: int, user_id: int, version: int):
    """(round, user, prepared paper row) for the session's `user_id` and `version`, loaded into
    the request's session (so Flask-Login's loader then finds the user without a query), or
    None when that is not an active participant with a current session, or there is no such
    round: the caller then takes the ordinary checks (sign-in page, 403, 404). On PostgreSQL
    the session's connection is in autocommit from here on (see start_here)."""
    session = db.session()
    if db.engine.dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    row = session.execute(_SIGNED_IN, {"round_id": round_id, "user_id": user_id, "version": version}).first()
    if row is None:
        _end_autocommit()
        return None
    return row.Round, row.User, row


def _end_autocommit() -> None:
    """Release the request's autocommit connection (nothing to commit) keeping what it loaded,
    so what follows runs in an ordinary transaction."""
    session = db.session()
    session.expire_on_commit = False  # the request's Session itself: scoped_session does not proxy this flag
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def start_here(round_: Round, user: User, ip: str, user_agent: str, paper=None) -> Started | Attempt:
    """Start `user`'s attempt at `round_` on this device. Returns Started for an attempt
    created now from its prepared paper; otherwise the attempt from `attempts.start_attempt`
    (resumed, drawn now, or a team's), which the caller opens with `open_on_device`.
    `paper` is the row from `signed_in_start` (paper_id, max_score, attempt_id), read here
    when not given. Raises ServiceError (Chinese) when the user may not start."""
    if paper is None and round_.team_scoring != "shared":
        paper = db.session.execute(_PREPARED, {"round_id": round_.id, "user_id": user.id}).first()
    if round_.team_scoring == "shared" or paper is None or paper.paper_id is None or paper.attempt_id is not None:
        _end_autocommit()  # start_attempt writes several statements: one transaction
        return start_attempt(round_, user)
    now = clock.now()
    problem = entry.refusal(round_, user, now)
    if problem:
        _end_autocommit()
        raise ServiceError(problem)
    values = {"round_id": round_.id, "user_id": user.id, "now": now, "max_score": paper.max_score,
              "deadline": min(now + timedelta(minutes=round_.time_limit_minutes), round_.closes_at),
              "token": secrets.token_urlsafe(24), "ip": (ip or "")[:64], "user_agent": (user_agent or "")[:300]}
    try:
        if db.engine.dialect.name == "postgresql":
            rows = db.session.execute(_PG_START, {**values, "paper": paper.paper_id}).all()
            attempt_id = rows[0].attempt_id
            rows = [row[1:] for row in rows]
        else:
            attempt_id = _write_start(values, paper.paper_id)
            rows = [tuple(row) for row in db.session.execute(_PAGE_READ, {"attempt_id": attempt_id})]
        # Nothing was written through the ORM, so no loaded object (the user, the round) is
        # stale: keep them, or rendering the page would load both again after the commit.
        _end_autocommit()
    except IntegrityError:
        # Two starts raced (double click, two devices): the other one's attempt wins.
        db.session.rollback()
        return start_attempt(round_, user)
    return Started(attempt_id, values["token"], values["deadline"], rows)


def _write_start(values: dict, paper_id: int) -> int:
    """The attempt, its items and the start event, statement by statement (SQLite)."""
    attempt_id = db.session.execute(_NEW_ATTEMPT, {
        "round_id": values["round_id"], "user_id": values["user_id"], "status": "in_progress",
        "started_at": values["now"], "deadline_at": values["deadline"], "max_score": values["max_score"],
        "device_token": values["token"]}).scalar_one()
    copy_prepared_items(attempt_id, paper_id)
    db.session.execute(_START_EVENT, {"attempt_id": attempt_id, "user_id": values["user_id"], "kind": "start",
                                      "at": values["now"], "ip": values["ip"], "user_agent": values["user_agent"]})
    return attempt_id
