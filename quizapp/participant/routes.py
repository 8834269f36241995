"""The participant's pages: lobby, quiz, autosave API, submission and result.

Every attempt route loads the attempt through `own_attempt`, which answers 404 for any
attempt that is not the signed-in participant's own.
"""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import clock
from ..access import participant_required
from ..auth.forms import PostForm
from ..extensions import db
from ..models import Attempt, Round
from ..services import ServiceError
from ..services import attempts as attempt_service
from ..services.rounds import answers_released
from .view_models import quiz_items, result_items

bp = Blueprint("participant", __name__)


def own_attempt(attempt_id: int, finalize_expired: bool = True) -> Attempt:
    """The signed-in participant's attempt (404 for anyone else's), finalized first if its
    deadline has passed, so every page sees the attempt's true state."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    if finalize_expired:
        attempt_service.finalize_if_expired(attempt)
    return attempt


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.is_admin:
        return redirect(url_for("organizer.index"))
    return redirect(url_for("participant.lobby"))


@bp.route("/lobby")
@participant_required
def lobby():
    rounds = db.session.scalars(select(Round).where(Round.status != "draft").order_by(Round.opens_at)).all()
    attempts = {a.round_id: a for a in db.session.scalars(select(Attempt).filter_by(user_id=current_user.id))}
    for attempt in attempts.values():
        attempt_service.finalize_if_expired(attempt)
    now = clock.now()
    return render_template("participant/lobby.html", rounds=rounds, attempts=attempts, now=now,
                           can_start={r.id: attempt_service.round_accepts_starts(r, now) for r in rounds},
                           form=PostForm())


@bp.route("/rounds/<int:round_id>/start", methods=["POST"])
@participant_required
def start(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    try:
        attempt = attempt_service.start_attempt(round_, current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("participant.lobby"))
    return redirect(url_for("participant.quiz", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
@participant_required
def quiz(attempt_id: int):
    attempt = own_attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for("participant.result", attempt_id=attempt.id))
    return render_template("participant/quiz.html", attempt=attempt, items=quiz_items(attempt),
                           remaining=attempt_service.remaining_seconds(attempt), form=PostForm())


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@participant_required
def save_answer(attempt_id: int):
    """JSON in: {"position": n, "response": …, "flagged": bool}. 200 only once committed."""
    attempt = own_attempt(attempt_id, finalize_expired=False)  # the save itself checks the deadline
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("position"), int):
        return jsonify(ok=False, error="请求格式不正确"), 400
    try:
        attempt_service.save_response(attempt, payload["position"], payload.get("response"),
                                      bool(payload.get("flagged", False)))
    except ServiceError as exc:
        db.session.refresh(attempt)
        code = 409 if attempt.finished or attempt_service.remaining_seconds(attempt) == 0 else 400
        return jsonify(ok=False, error=str(exc), finished=attempt.finished), code
    return jsonify(ok=True, remaining=attempt_service.remaining_seconds(attempt))


@bp.route("/attempts/<int:attempt_id>/clock")
@participant_required
def attempt_clock(attempt_id: int):
    attempt = own_attempt(attempt_id)
    return jsonify(ok=True, finished=attempt.finished, remaining=attempt_service.remaining_seconds(attempt))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@participant_required
def submit(attempt_id: int):
    attempt = own_attempt(attempt_id, finalize_expired=False)
    attempt_service.submit_attempt(attempt)
    flash("已交卷" if attempt.status == "submitted" else "答题时间已到，已自动交卷", "info")
    return redirect(url_for("participant.result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/result")
@participant_required
def result(attempt_id: int):
    attempt = own_attempt(attempt_id)
    if not attempt.finished:
        return redirect(url_for("participant.quiz", attempt_id=attempt.id))
    released = answers_released(attempt.round)
    show_score = released or attempt.round.show_score == "on_submit"
    return render_template("participant/result.html", attempt=attempt, released=released,
                           show_score=show_score, items=result_items(attempt) if released else [])
