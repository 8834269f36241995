"""The participant's pages: lobby, quiz, autosave API, submission and result.

Every attempt route loads the attempt through `own_attempt`, which answers 404 for any
attempt that is not the signed-in participant's own.
"""
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from .. import clock
from ..access import participant_required, refusal_for, session_user_id, session_version
from ..auth.forms import PostForm
from ..auth.routes import home_for
from ..extensions import db
from ..models import Attempt, Round
from ..services import ServiceError
from ..services import attempts as attempt_service
from ..services import entry, starting
from ..services.health_person import person_health
from ..services.lobby import SECTION_TITLES, lobby_cards
from ..services.practice import lobby_summary as practice_summary
from ..services.rounds import answers_released
from .view_models import QuizPage, paper_json, quiz_items, result_items, started_items

bp = Blueprint("participant", __name__)
MAX_POSITION = 10_000  # far above any paper's length, far below the database's integer range


def own_attempt(attempt_id: int, finalize_expired: bool = True) -> Attempt:
    """The signed-in participant's attempt — their own, or their team's in a shared-paper team
    round — and 404 for anyone else's. Finalized first if its deadline has passed, so every
    page sees the attempt's true state."""
    # With its round in the same query: every attempt page needs it.
    attempt = db.session.get(Attempt, attempt_id, options=[joinedload(Attempt.round)])
    # Their own attempt needs no further look-up; a team member's shared paper does.
    if attempt is None or (attempt.user_id != current_user.id
                           and attempt_service.find_attempt(attempt.round, current_user) is not attempt):
        abort(404)
    if finalize_expired:
        attempt_service.finalize_if_expired(attempt)
    return attempt


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))


@bp.route("/lobby")
@participant_required
def lobby():
    rounds = db.session.scalars(select(Round).where(Round.status != "draft").order_by(Round.opens_at)).all()
    attempts = {r.id: a for r in rounds if (a := attempt_service.find_attempt(r, current_user)) is not None}
    for attempt in attempts.values():
        attempt_service.finalize_if_expired(attempt)
    now = clock.now()
    refusals = {r.id: entry.refusal(r, current_user, now) for r in rounds}
    cards = lobby_cards(rounds, attempts, refusals, now, current_user)
    return render_template("participant/lobby.html", cards=cards, titles=SECTION_TITLES, now=now, form=PostForm(),
                           practice=practice_summary(current_user))


@bp.route("/rounds/<int:round_id>/start", methods=["POST"])
def start(round_id: int):
    """开始. An attempt started now answers with its quiz page at once (quiz.js then puts the
    attempt's own address in the address bar, so a reload or a bookmark asks for that page with
    GET and never posts again); any other attempt (resumed, a team's, drawn now) is 303 to its
    page. Everyone presses 开始 at 9:00: one request instead of a redirect and a second one.

    The signed-in participant, the round and their prepared paper are read in one query
    (`starting.signed_in_start`, the session's checks included); only when that finds nothing
    do the route's ordinary checks run (sign-in page, 403 for another role, 404)."""
    signed_in, version = session_user_id(), session_version()
    found = starting.signed_in_start(round_id, signed_in, version) if signed_in and version is not None else None
    if found is None:
        if (refusal := refusal_for("participant")) is not None:
            return refusal
        round_, user, paper = db.get_or_404(Round, round_id), current_user, None
    else:
        round_, user, paper = found
    try:
        started = starting.start_here(round_, user, request.remote_addr, request.user_agent.string, paper)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("participant.lobby"))
    if isinstance(started, starting.Started):
        session[f"device-{started.attempt_id}"] = started.device_token
        remaining = max(0, int((started.deadline_at - clock.now()).total_seconds()))
        page = QuizPage(started.attempt_id, round_.name, None, remaining, paper_json(started_items(started.rows)))
        return render_template("participant/quiz.html", page=page, form=PostForm())
    # The id from the identity map: reading attempt.id after the commit would load the row again.
    return redirect(url_for("participant.quiz", attempt_id=inspect(started).identity[0]), 303)


@bp.route("/attempts/<int:attempt_id>")
@participant_required
def quiz(attempt_id: int):
    attempt = own_attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for("participant.result", attempt_id=attempt.id))
    # Rendered before open_on_device commits: a commit expires every loaded row, and the page
    # would load the attempt, its round and the user again.
    page = QuizPage(attempt.id, attempt.round.name, attempt.team.name if attempt.team else None,
                    attempt_service.remaining_seconds(attempt), paper_json(quiz_items(attempt)))
    html = render_template("participant/quiz.html", page=page, form=PostForm())
    key = f"device-{attempt_id}"
    session[key] = attempt_service.open_on_device(attempt, current_user, session.get(key), request.remote_addr,
                                                  request.user_agent.string)
    return html


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
def save_answer(attempt_id: int):
    """JSON in: {"position": n, "response": …, "flagged": bool}. 200 only once committed.

    The common case — a participant answering their own paper — is checked inside the save's
    own statements: the signed session names the user, and the item is found only in that
    user's own attempt and only if they are a participant, so the user need not be loaded.
    Only when that finds nothing are the user and the attempt loaded (sign-in and role as on
    every participant route; then a team's shared paper, a wrong position, or someone
    else's attempt, which is 404)."""
    if (request.content_length or 0) > current_app.config["MAX_JSON_SAVE_BYTES"]:
        return jsonify(ok=False, error="请求内容过大"), 413
    payload = request.get_json(silent=True)
    position = payload.get("position") if isinstance(payload, dict) else None
    # bool is an int in Python; a position is a small positive integer (and fits the database's int4).
    if type(position) is not int or not 1 <= position <= MAX_POSITION:
        return jsonify(ok=False, error="请求格式不正确"), 400
    args = (attempt_id, position, payload.get("response"), payload.get("flagged") is True,
            session.get(f"device-{attempt_id}", ""))
    signed_in, version = session_user_id(), session_version()
    try:
        try:
            if signed_in is None or version is None:
                raise attempt_service.NoSuchItem("未登录")
            remaining = attempt_service.save_response(*args, owner_id=signed_in, owner_version=version)
        except attempt_service.NoSuchItem:
            # Signed out, session ended, disabled, another role, a team's shared paper, or not theirs:
            # the full checks, which answer JSON (401/403/404), never a redirect to the login page.
            if (refusal := refusal_for("participant")) is not None:
                return refusal
            own_attempt(attempt_id, finalize_expired=False)  # 404 unless it is theirs (or their team's)
            remaining = attempt_service.save_response(*args)
    except attempt_service.TakenOver as exc:
        return jsonify(ok=False, error=str(exc), taken_over=True), 409
    except ServiceError as exc:
        attempt = db.session.get(Attempt, attempt_id)
        code = 409 if attempt.finished or attempt_service.remaining_seconds(attempt) == 0 else 400
        return jsonify(ok=False, error=str(exc), finished=attempt.finished), code
    return jsonify(ok=True, remaining=remaining)


@bp.route("/attempts/<int:attempt_id>/clock")
@participant_required
def attempt_clock(attempt_id: int):
    attempt = own_attempt(attempt_id)
    taken_over = not attempt.finished and attempt.device_token != session.get(f"device-{attempt.id}")
    return jsonify(ok=True, finished=attempt.finished, remaining=attempt_service.remaining_seconds(attempt),
                   taken_over=taken_over)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
def submit(attempt_id: int):
    """Everyone submits in the last minute, so the participant's own attempt is recognised
    from the signed session without loading the user: the attempt, its round and the session's
    checks in one query (`attempts.own_for_submit`). Anyone else (a team member, another
    person, a session that has ended) gets the full checks."""
    signed_in, version = session_user_id(), session_version()
    attempt = attempt_service.own_for_submit(attempt_id, signed_in, version) if signed_in and version is not None else None
    if attempt is None:
        if (refusal := refusal_for("participant")) is not None:
            return refusal
        attempt = own_attempt(attempt_id, finalize_expired=False)
    status = attempt_service.submit_attempt(attempt)
    flash("已交卷" if status == "submitted" else "答题时间已到，已自动交卷", "info")
    return redirect(url_for("participant.result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/result")
@participant_required
def result(attempt_id: int):
    attempt = own_attempt(attempt_id)
    if not attempt.finished:
        return redirect(url_for("participant.quiz", attempt_id=attempt.id))
    released = answers_released(attempt.round)
    show_score = released or (attempt.round.show_score == "on_submit" and not attempt.invalidated_at)
    items = result_items(attempt) if released else []
    return render_template("participant/result.html", attempt=attempt, released=released, show_score=show_score,
                           items=items, mine=person_health(attempt, items) if released else None)
