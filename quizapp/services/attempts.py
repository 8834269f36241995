"""Starting, answering, submitting and finalizing attempts.

Guarantees:
- An answer is acknowledged (save_response returns) only after it is committed, and only if
  the attempt was still open at that moment; the check and the write are one statement.
- Finalizing is race-free against concurrent saves: on PostgreSQL saves take a shared lock on
  the attempt row and finalizing an exclusive one; on SQLite the database's single writer
  orders them. Every acknowledged answer is therefore in the score.
- An attempt past its deadline is finalized by the first request that touches it, by any
  sweep (organizer pages, closing the round, `quizapp sweep`), whichever comes first.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import bindparam, case, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..access import live_participant
from ..extensions import db
from ..models import Attempt, AttemptEvent, AttemptItem, Question, Round, User
from ..papers import PoolQuestion
from ..scoring import item_score
from . import ServiceError, drawing, entry
from .drawing import scoring_rules

MAX_FILL_LENGTH = 200


def find_attempt(round_: Round, user: User) -> Attempt | None:
    """The attempt this person answers in: their own, or in a shared-paper team round their team's."""
    if round_.team_scoring == "shared":
        team = entry.team_of(round_, user)
        if team is not None:
            return db.session.scalar(select(Attempt).filter_by(round_id=round_.id, team_id=team.id))
    return db.session.scalar(select(Attempt).filter_by(round_id=round_.id, user_id=user.id))


def start_attempt(round_: Round, user: User, pool: list[PoolQuestion] | None = None) -> Attempt:
    """The user's attempt at `round_`, created on first call, else resumed. Raises
    ServiceError (Chinese) when the user may not start it. The paper is the one prepared
    when the round opened, or drawn now — the same paper either way (see services.drawing);
    `pool` lets a caller drawing many papers load the question pool once."""
    existing = find_attempt(round_, user)
    if existing is not None:
        finalize_if_expired(existing)
        return existing
    now = clock.now()
    problem = entry.refusal(round_, user, now)
    if problem:
        raise ServiceError(problem)
    team = entry.team_of(round_, user) if round_.team_scoring == "shared" else None
    paper = drawing.prepared(round_, user, team)
    items, top = (None, paper.max_score) if paper else drawing.draw_now(round_, user, team, pool)
    deadline = min(now + timedelta(minutes=round_.time_limit_minutes), round_.closes_at)
    attempt = Attempt(round_id=round_.id, user_id=user.id, team_id=team.id if team else None,
                      status="in_progress", started_at=now, deadline_at=deadline, max_score=top)
    db.session.add(attempt)
    try:
        db.session.flush()
        if paper:
            drawing.copy_prepared_items(attempt.id, paper.id)
        else:
            drawing.insert_items(attempt.id, items)
        db.session.commit()
    except IntegrityError:
        # Two starts raced (double click, two devices, two team members): the other paper wins.
        db.session.rollback()
        attempt = find_attempt(round_, user)
        if attempt is None:
            raise
    return attempt


def open_on_device(attempt: Attempt, user: User, token: str | None, ip: str, user_agent: str) -> str:
    """Make this browser the attempt's one answering device and log the start or resume.

    Returns the device token the browser must keep. A browser whose token differs from the
    attempt's takes the attempt over; the previous device's saves are refused from then on."""
    # Every opening sets a device token, so an attempt without one has never been opened.
    kind = "start" if attempt.device_token is None else "resume"
    if token and token == attempt.device_token:
        kind = "resume"
    else:
        if attempt.device_token:
            kind = "takeover"
        token = secrets.token_urlsafe(24)
        attempt.device_token = token
    db.session.add(AttemptEvent(attempt_id=attempt.id, user_id=user.id, kind=kind, at=clock.now(),
                                ip=(ip or "")[:64], user_agent=(user_agent or "")[:300]))
    db.session.commit()
    return token


def to_bank_response(question: Question, option_order: list[str], raw):
    """Translate a response in display letters (what the page sends) to bank letters.

    Raises ServiceError for anything that is not a well-formed response to this question;
    None (a cleared answer) is allowed for every type.
    """
    if raw is None:
        return None
    shown = {chr(ord("A") + i): key for i, key in enumerate(option_order)}
    if question.type == "single":
        if not isinstance(raw, str) or raw not in shown:
            raise ServiceError("答案格式不正确")
        return shown[raw]
    if question.type == "multiple":
        if (not isinstance(raw, list) or any(not isinstance(r, str) or r not in shown for r in raw)
                or len(set(raw)) != len(raw)):
            raise ServiceError("答案格式不正确")
        return sorted(shown[r] for r in raw) or None
    if question.type == "judge":
        if not isinstance(raw, bool):
            raise ServiceError("答案格式不正确")
        return raw
    blanks = len(question.answer)
    if (not isinstance(raw, list) or len(raw) != blanks
            or any(not isinstance(r, str) or len(r) > MAX_FILL_LENGTH for r in raw)):
        raise ServiceError("答案格式不正确")
    return [r.strip() for r in raw]


def to_display_response(qtype: str, option_order: list[str], stored):
    """The inverse of to_bank_response, for filling the page with saved answers to a
    question of type `qtype`."""
    if stored is None or qtype in ("judge", "fill"):
        return stored
    letter = {key: chr(ord("A") + i) for i, key in enumerate(option_order)}
    if qtype == "single":
        return letter.get(stored)
    return sorted(letter[k] for k in stored if k in letter)


class TakenOver(ServiceError):
    """The attempt is now open on another device."""


class NoSuchItem(ServiceError):
    """No such question in this attempt — or, when an owner was given, not their attempt."""


def _save_statements():
    """The autosave's statements, built once: building and keying SQL per request cost more
    than running it. Parameters are bound at execution."""
    read = (
        select(AttemptItem.id, AttemptItem.option_order, Question.type, Question.answer, Attempt.deadline_at)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id).join(Question, Question.id == AttemptItem.question_id)
        .where(AttemptItem.attempt_id == bindparam("attempt_id"), AttemptItem.position == bindparam("position"))
    )
    # UPDATE parameters may not share a column's name, hence the "b_" prefixes.
    open_now = select(Attempt.id).where(Attempt.id == bindparam("b_attempt"), Attempt.status == "in_progress",
                                        Attempt.deadline_at > bindparam("b_now"))
    write = (
        update(AttemptItem)
        .values(response=bindparam("b_response", type_=AttemptItem.response.type),
                flagged=bindparam("b_flagged"), saved_at=bindparam("b_now"))
    )

    def write_if(condition):
        # The open-attempt check takes a shared lock on the attempt row (PostgreSQL): finalizing
        # (an UPDATE of that row) waits for this save to commit, and a save that waited re-checks
        # the row and finds it finalized. SQLite has no row locks; there this one statement is
        # atomic under the database's single writer.
        return write.where(AttemptItem.id == bindparam("b_item"), exists(condition.with_for_update(read=True)))

    return {
        "read": read,
        # The session's checks (quizapp.access) inside the read: an active participant whose
        # session version is current — a disabled or signed-out person's save finds nothing.
        "read_owned": read.join(User, User.id == Attempt.user_id).where(
            Attempt.user_id == bindparam("owner_id"), live_participant("owner_version")),
        "write": write_if(open_now),
        "write_device": write_if(open_now.where(Attempt.device_token == bindparam("b_device"))),
    }


_SAVE = _save_statements()


def save_response(attempt: Attempt | int, position: int, raw, flagged: bool, device_token: str | None = None,
                  owner_id: int | None = None, owner_version: int | None = None) -> int:
    """Store one response; returns the seconds left. The answer is acknowledged (this returns)
    only once it is committed, and only if the attempt was open when it was written.

    This is the hot path of a round: a read of the item (its paper never changes) and one
    conditional UPDATE, each in autocommit — the UPDATE is its own transaction, so a save
    costs two round trips to the database and needs no session.

    With `owner_id` (and the session's `owner_version`), only that active participant's own
    attempt is found (NoSuchItem otherwise: a team member answering a shared paper is checked
    by the caller and passes no owner).
    Raises ServiceError if the attempt no longer takes answers, TakenOver if `device_token`
    is given and another device has taken the attempt over."""
    attempt_id = attempt if isinstance(attempt, int) else attempt.id
    params = {"attempt_id": attempt_id, "position": position}
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if owner_id is None:
            row = connection.execute(_SAVE["read"], params).first()
        else:
            row = connection.execute(_SAVE["read_owned"], {**params, "owner_id": owner_id,
                                                           "owner_version": owner_version}).first()
        if row is None:
            raise NoSuchItem("题号不存在")
        response = to_bank_response(row, row.option_order, raw)
        now = clock.now()
        values = {"b_attempt": attempt_id, "b_item": row.id, "b_now": now, "b_response": response,
                  "b_flagged": bool(flagged)}
        if device_token is None:
            written = connection.execute(_SAVE["write"], values).rowcount
        else:
            written = connection.execute(_SAVE["write_device"], {**values, "b_device": device_token}).rowcount
    if written != 1:
        current = db.session.get(Attempt, attempt_id)
        db.session.refresh(current)
        finalize_if_expired(current)
        if not current.finished and device_token is not None and current.device_token != device_token:
            raise TakenOver("此试卷已在另一台设备上打开，本设备上的答案未保存，请在新设备上继续作答")
        raise ServiceError("答题时间已到或已交卷，答案未能保存")
    return max(0, int((row.deadline_at - now).total_seconds()))


_OWN_FOR_SUBMIT = (
    select(Attempt).options(joinedload(Attempt.round)).join(User, User.id == Attempt.user_id)
    .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user_id"),
           live_participant("version"))
)


def own_for_submit(attempt_id: int, user_id: int, version: int) -> Attempt | None:
    """The attempt (with its round) if it is `user_id`'s own and that user is an active
    participant whose session `version` is current — the checks of quizapp.access's loader —
    in one query; None otherwise (the caller then runs the full checks)."""
    return db.session.scalars(_OWN_FOR_SUBMIT, {"attempt_id": attempt_id, "user_id": user_id,
                                                "version": version}).unique().first()


def submit_attempt(attempt: Attempt) -> str:
    """Finalize at the participant's request; after the deadline it is finalized as expired.
    Returns the attempt's status ("submitted", or "expired")."""
    finalize(attempt, "submitted")
    return attempt.status


def finalize_if_expired(attempt: Attempt) -> None:
    if attempt.status == "in_progress" and attempt.deadline_at <= clock.now():
        finalize(attempt, "expired")


def finalize(attempt: Attempt, reason: str) -> bool:
    """Score the attempt and close it to further answers. Returns False if it was already final.

    `reason` "submitted" records the submission time (or "expired" if the deadline has passed);
    "expired" ends it at its deadline.
    """
    now = clock.now()
    if reason == "submitted" and now >= attempt.deadline_at:
        reason = "expired"
    ended = now if reason == "submitted" else attempt.deadline_at
    # The claiming UPDATE takes the attempt's row lock: on PostgreSQL it waits for any save
    # holding FOR SHARE on the row, and saves after it wait and then see the new status; on
    # SQLite it takes the database's write lock. Either way every acknowledged save is in the
    # items read below, and no save is acknowledged after it.
    claimed = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == "in_progress")
        .values(status=reason, submitted_at=ended).returning(Attempt.started_at, Attempt.invalidated_at)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        db.session.rollback()
        db.session.refresh(attempt)
        return False
    for key, value in (("status", reason), ("submitted_at", ended), ("started_at", claimed.started_at),
                       ("invalidated_at", claimed.invalidated_at)):
        set_committed_value(attempt, key, value)
    score_attempt(attempt)
    settled = {key: getattr(attempt, key) for key in ("status", "submitted_at", "score", "max_score", "time_used")}
    db.session.commit()
    # The commit expired the row; what was just written is known, so reading it costs no query.
    for key, value in settled.items():
        set_committed_value(attempt, key, value)
    return True


_SCORE_READ = (
    select(AttemptItem.id, AttemptItem.response, AttemptItem.points, Question.type, Question.answer, Question.void)
    .join(Question, Question.id == AttemptItem.question_id).where(AttemptItem.attempt_id == bindparam("attempt_id"))
)
_SET_POINTS: dict[int, object] = {}


def _set_points(groups: int):
    """One UPDATE that gives each of `groups` sets of items its points value (CASE over IN
    lists), built once per number of groups: a paper's items take only a few distinct values."""
    if groups not in _SET_POINTS:
        ids = [bindparam(f"b_items{g}", expanding=True) for g in range(groups)]
        value = case(*[(AttemptItem.id.in_(ids[g]), bindparam(f"b_points{g}")) for g in range(groups)])
        _SET_POINTS[groups] = update(AttemptItem).where(or_(*[AttemptItem.id.in_(i) for i in ids])).values(points=value)
    return _SET_POINTS[groups]


def score_attempt(attempt: Attempt) -> None:
    """(Re)compute item points, score and time used from the saved responses. No commit.

    Reads the items straight from the database (answers committed by other requests count)
    and writes the item points that changed and the attempt's score — on PostgreSQL in one
    statement — so a submission at the last-minute rush costs one read and one write, not a
    unit of work over 50 objects."""
    rules = scoring_rules(attempt.round)
    connection = db.session.connection()
    total = possible = 0.0
    changed: dict[float, list[int]] = {}
    for row in connection.execute(_SCORE_READ, {"attempt_id": attempt.id}):
        points, full = item_score(row.type, row.answer, row.void, row.response, rules)
        possible += full
        total += points
        if row.points != points:
            changed.setdefault(points, []).append(row.id)
    end = attempt.submitted_at or attempt.deadline_at
    scored = {"max_score": round(possible, 2),
              # An invalidated attempt keeps its item points for the record but scores 0.
              "score": 0.0 if attempt.invalidated_at else round(total, 2),
              "time_used": max(0, int((end - attempt.started_at).total_seconds()))}
    # Written here rather than by the session's flush (which would run its unit of work for
    # three columns); the object is told the values as written.
    write = update(Attempt).where(Attempt.id == attempt.id).values(**scored)
    if changed:
        params = {}
        for g, (points, ids) in enumerate(changed.items()):
            params[f"b_points{g}"], params[f"b_items{g}"] = points, ids
        if connection.dialect.name == "postgresql":
            # Both writes in one statement (the item points as a data-modifying WITH): one
            # round trip fewer at the rush.
            connection.execute(write.add_cte(_set_points(len(changed)).cte("points")), params)
        else:
            connection.execute(_set_points(len(changed)), params)
            connection.execute(write)
    else:
        connection.execute(write)
    for key, value in scored.items():
        set_committed_value(attempt, key, value)


def sweep_expired(round_id: int | None = None) -> int:
    """Finalize every in-progress attempt past its deadline; returns how many were finalized."""
    query = select(Attempt).where(Attempt.status == "in_progress", Attempt.deadline_at <= clock.now())
    if round_id is not None:
        query = query.where(Attempt.round_id == round_id)
    return sum(finalize(a, "expired") for a in db.session.scalars(query).all())


def rescore(attempt: Attempt) -> None:
    """Re-score a finalized attempt after a correction, an invalidation or a reopening. No commit."""
    if attempt.finished:
        score_attempt(attempt)


def remaining_seconds(attempt: Attempt) -> int:
    return max(0, int((attempt.deadline_at - clock.now()).total_seconds()))
