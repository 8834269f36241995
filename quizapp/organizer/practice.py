"""The organizer's practice (大学习) pages: participation and accuracy per unit, and within a
unit per 党支部 and per person — who practised this week."""
from flask import abort, render_template

from ..access import organizer_required
from ..extensions import db
from ..models import Unit
from ..services import practice_stats as stats
from . import bp


@bp.route("/practice")
@organizer_required
def practice_overview():
    rows, total = stats.by_unit()
    since, _ = stats.this_week()
    return render_template("organizer/practice.html", rows=rows, total=total, since=since)


@bp.route("/practice/units/<int:unit_id>")
@organizer_required
def practice_unit(unit_id: int):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    since, _ = stats.this_week()
    return render_template("organizer/practice_unit.html", unit=unit, branches=stats.by_branch(unit.id),
                           people=stats.people_of_unit(unit.id), since=since)
