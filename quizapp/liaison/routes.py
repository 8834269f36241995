"""The unit liaison's pages: their own unit's roster, progress and results — nothing about
other units' people. Every query is scoped to the liaison's unit; anything else is 404.
Scores and ranks follow the participants' own release rule (quizapp.services.release)."""
from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from ..access import liaison_required
from ..extensions import db
from ..models import Attempt, Round, User
from ..services import entry
from ..services.attempts import find_attempt, sweep_expired
from ..services.release import results_released, score_visible
from ..services.results import individual_leaderboard

bp = Blueprint("liaison", __name__)


def my_people() -> list[User]:
    return db.session.scalars(select(User).where(User.unit_id == current_user.unit_id, User.role == "participant")
                              .order_by(User.username)).all()


@bp.route("/")
@liaison_required
def home():
    rounds = db.session.scalars(select(Round).where(Round.status != "draft").order_by(Round.opens_at)).all()
    return render_template("liaison/home.html", people=my_people(), rounds=rounds)


@bp.route("/rounds/<int:round_id>")
@liaison_required
def round_view(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if round_.status == "draft":
        abort(404)
    sweep_expired(round_.id)
    eligible = {u.id for u in db.session.scalars(entry.eligible_people(round_).where(User.unit_id == current_user.unit_id))}
    released = results_released(round_)
    ranks = ({row.username: row for row in individual_leaderboard(round_, unit_id=current_user.unit_id, sweep=False)}
             if released else {})
    rows = []
    for person in my_people():
        attempt = find_attempt(round_, person)
        if person.id in eligible or attempt is not None:
            rows.append((person, attempt, ranks.get(person.username), score_visible(attempt)))
    any_score = released or round_.show_score == "on_submit"
    return render_template("liaison/round.html", round=round_, rows=rows, released=released, any_score=any_score)


@bp.route("/people/<int:user_id>")
@liaison_required
def person(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.unit_id != current_user.unit_id or user.role != "participant":
        abort(404)
    attempts = db.session.scalars(select(Attempt).filter_by(user_id=user.id)).all()
    return render_template("liaison/person.html", person=user, attempts=attempts, score_visible=score_visible)


from . import report  # noqa: E402,F401  (the unit's 体检 report registers its routes on this blueprint)
from . import practice  # noqa: E402,F401  (the unit's practice figures, likewise)
