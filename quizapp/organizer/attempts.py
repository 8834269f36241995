"""A round's attempts, one attempt's log, and the exceptions: extend, reopen, invalidate."""
from flask import flash, redirect, render_template, url_for
from sqlalchemy import select

from ..access import organizer_required
from ..extensions import db
from ..models import Attempt, Round, Unit, User
from ..services import ServiceError, interventions
from ..services.attempts import remaining_seconds, sweep_expired
from ..services.units import sorted_units, unit_order
from ..views_support import form_errors
from ..validation import query_int
from . import bp
from .forms import ExtendForm, ReasonForm


@bp.route("/rounds/<int:round_id>/attempts")
@organizer_required
def attempts(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    sweep_expired(round_.id)
    query = (select(Attempt).join(User, Attempt.user_id == User.id).outerjoin(Unit, User.unit_id == Unit.id)
             .where(Attempt.round_id == round_.id).order_by(unit_order(User.unit_id), User.username))
    unit_id = query_int("unit")
    if unit_id:
        query = query.where(User.unit_id == unit_id)
    rows = db.session.scalars(query).all()
    units = sorted_units()
    return render_template("organizer/attempts.html", round=round_, rows=rows, units=units, unit_id=unit_id)


@bp.route("/attempts/<int:attempt_id>")
@organizer_required
def attempt_detail(attempt_id: int):
    attempt = db.get_or_404(Attempt, attempt_id)
    return _render_attempt(attempt)


def _render_attempt(attempt: Attempt, failed: tuple[str, object] | None = None, status: int = 200):
    """The attempt page; `failed` is (action, form) of a refused form, shown with its errors."""
    forms = {"extend": ExtendForm(), "reopen": ExtendForm(prefix="reopen"), "invalidate": ReasonForm(prefix="invalid")}
    if failed:
        forms[failed[0]] = failed[1]
    return render_template("organizer/attempt.html", attempt=attempt, remaining=remaining_seconds(attempt),
                           extend_form=forms["extend"], reopen_form=forms["reopen"],
                           invalidate_form=forms["invalidate"]), status


def _form_shown(attempt: Attempt, action: str) -> bool:
    """Whether attempt.html shows the form of `action` for this attempt (mirrors its conditions)."""
    if action == "extend":
        return not attempt.finished
    if action == "reopen":
        return attempt.finished and not attempt.invalidated_at
    return not attempt.invalidated_at


@bp.route("/attempts/<int:attempt_id>/<any(extend, reopen, invalidate):action>", methods=["POST"])
@organizer_required
def intervene(attempt_id: int, action: str):
    """Extend, reopen or invalidate; a form with errors is shown again with each error beside its field."""
    attempt = db.get_or_404(Attempt, attempt_id)
    form = {"extend": ExtendForm(), "reopen": ExtendForm(prefix="reopen"), "invalidate": ReasonForm(prefix="invalid")}[action]
    if not form.validate_on_submit():
        if _form_shown(attempt, action):
            return _render_attempt(attempt, (action, form))
        flash(form_errors(form), "error")  # the page has no such form now: say it at the top
        return redirect(url_for("organizer.attempt_detail", attempt_id=attempt.id))
    try:
        if action == "extend":
            interventions.extend(attempt, form.minutes.data, form.reason.data)
            flash(f"已延长 {form.minutes.data} 分钟", "info")
        elif action == "reopen":
            interventions.reopen(attempt, form.minutes.data, form.reason.data)
            flash("已重新开放试卷", "info")
        else:
            interventions.invalidate(attempt, form.reason.data)
            flash("已作废该成绩", "info")
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("organizer.attempt_detail", attempt_id=attempt.id))
