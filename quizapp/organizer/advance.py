"""Advancement between rounds: rule, preview with reasons, manual changes, confirm, undo."""
from flask import abort, flash, redirect, render_template, request, url_for

from ..access import organizer_required
from ..advancement import Rule
from ..auth.forms import PostForm
from ..extensions import db
from ..models import Round
from ..services import ServiceError, advancing
from . import bp
from .forms import AdvanceForm


@bp.route("/rounds/<int:round_id>/advance", methods=["GET", "POST"])
@organizer_required
def advance(round_id: int):
    source = db.get_or_404(Round, round_id)
    target = advancing.next_round(source)
    if target is None:
        abort(404)
    form = AdvanceForm()
    if request.method == "GET" and target.advancement and target.advancement.get("from") == source.id:
        saved = target.advancement
        for key, value in saved["rule"].items():
            getattr(form, key).data = value
        form.add.data = "\n".join(f"{k} {v}" for k, v in saved.get("add", {}).items())
        form.remove.data = "\n".join(f"{k} {v}" for k, v in saved.get("remove", {}).items())
    decisions, added = None, []
    if form.validate_on_submit():
        try:
            rule = Rule.from_dict(form.rule_dict())
            add, remove = advancing.parse_manual(form.add.data), advancing.parse_manual(form.remove.data)
            if form.confirm.data:
                count = advancing.confirm(source, target, rule, add, remove)
                flash(f"已确认晋级名单：{count} 人进入{target.name}", "info")
                return redirect(url_for("organizer.advance", round_id=source.id))
            decisions, added = advancing.plan(source, rule, add, remove)
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return render_template("organizer/advance.html", source=source, target=target, form=form, decisions=decisions,
                           added=added, entrants=target.entrants if target.restricted else [], post_form=PostForm())


@bp.route("/rounds/<int:round_id>/advance/undo", methods=["POST"])
@organizer_required
def undo_advance(round_id: int):
    target = db.get_or_404(Round, round_id)
    try:
        advancing.undo(target)
        flash("已撤销晋级名单", "info")
    except ServiceError as exc:
        flash(str(exc), "error")
    source_id = (target.advancement or {}).get("from")
    previous = source_id or db.session.scalar(
        db.select(Round.id).where(Round.competition_id == target.competition_id, Round.seq < target.seq)
        .order_by(Round.seq.desc()))
    return redirect(url_for("organizer.advance", round_id=previous) if previous else url_for("organizer.index"))
