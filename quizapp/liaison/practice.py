"""The liaison's practice page: their own unit's participation and accuracy, per 党支部 and
per person (who practised this week). Another unit's person is 404, like every liaison page."""
from flask import abort, render_template
from flask_login import current_user

from ..access import liaison_required
from ..extensions import db
from ..models import User
from ..services import practice_stats as stats
from ..services.practice import mistake_count
from ..services.practice_answers import recent_sessions
from .routes import bp


@bp.route("/practice")
@liaison_required
def practice():
    since, _ = stats.this_week()
    return render_template("liaison/practice.html", unit=current_user.unit, branches=stats.by_branch(current_user.unit_id),
                           people=stats.people_of_unit(current_user.unit_id), since=since)


@bp.route("/practice/people/<int:user_id>")
@liaison_required
def practice_person(user_id: int):
    person = db.session.get(User, user_id)
    if person is None or person.unit_id != current_user.unit_id or person.role != "participant":
        abort(404)
    return render_template("liaison/practice_person.html", person=person, recent=recent_sessions(person, limit=20),
                           mistakes=mistake_count(person))
