"""Pages of the on-stage 决赛. Organizer: list and create finals, review and swap questions,
print team-login slips, the host console. Team: the buzzer (its own final only). Big screen:
/screen/<token>, no sign-in. The pages are shells: their scripts draw the live state that the
socket sends (quizapp.final.sockets)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..access import organizer_required, team_required
from ..auth.forms import PostForm
from ..extensions import db
from ..models import Final, Round
from ..services import ServiceError
from ..services import final as final_service
from ..validation import AppForm
from . import bp


class FinalForm(AppForm):
    """A final's parts; defaults are quizapp.rules.final.DEFAULT_CONFIG."""

    base_score = IntegerField("基础分", default=100, validators=[InputRequired("请填写基础分"), NumberRange(0, 1000)])
    required_count = IntegerField("每队必答题数", default=2, validators=[InputRequired("请填写题数"), NumberRange(0, 10)])
    required_points = IntegerField("必答题分值", default=10, validators=[InputRequired("请填写分值"), NumberRange(1, 100)])
    on_device = BooleanField("必答题在队伍设备上作答")
    buzzer_count = IntegerField("抢答题数", default=4, validators=[InputRequired("请填写题数"), NumberRange(0, 50)])
    buzzer_points = IntegerField("抢答题分值（答错扣同样分）", default=10,
                                 validators=[InputRequired("请填写分值"), NumberRange(1, 100)])
    penalty = IntegerField("抢答犯规扣分", default=10, validators=[InputRequired("请填写扣分"), NumberRange(0, 100)])
    risk_count = IntegerField("每队风险题数", default=1, validators=[InputRequired("请填写题数"), NumberRange(0, 5)])
    tiebreak_count = IntegerField("备用抢答加赛题数", default=3, validators=[InputRequired("请填写题数"), NumberRange(0, 20)])
    tiebreak_risk_count = IntegerField("备用风险加赛题数", default=4,
                                       validators=[InputRequired("请填写题数"), NumberRange(0, 20)])

    def config(self) -> dict:
        return {"base_score": self.base_score.data,
                "required": {"count_per_team": self.required_count.data, "points": self.required_points.data,
                             "on_device": bool(self.on_device.data)},
                "buzzer": {"count": self.buzzer_count.data, "points": self.buzzer_points.data,
                           "wrong_points": self.buzzer_points.data, "false_start_penalty": self.penalty.data},
                "risk": {"count_per_team": self.risk_count.data}, "tiebreak": {"count": self.tiebreak_count.data},
                "tiebreak_risk": {"count": self.tiebreak_risk_count.data}}


def _final_or_404(final_id: int) -> Final:
    return db.get_or_404(Final, final_id)


@bp.route("/admin/finals", methods=["GET", "POST"])
@organizer_required
def finals():
    form = FinalForm()
    if request.method == "POST":
        round_ = db.session.get(Round, request.form.get("round_id", type=int) or 0)
        if round_ is None:
            flash("请选择决赛轮次", "error")
        elif not form.validate():
            flash("；".join(m for ms in form.errors.values() for m in ms), "error")
        else:
            try:
                final = final_service.create_final(round_, form.config())
            except ServiceError as exc:
                flash(str(exc), "error")
            else:
                flash("已创建现场决赛：请核对题目，打印队伍登录条", "info")
                return redirect(url_for("final.review", final_id=final.id))
    existing = db.session.scalars(select(Final).order_by(Final.id.desc())).all()
    taken = {f.round_id for f in existing}
    rounds = [r for r in db.session.scalars(select(Round).where(Round.stage == "决赛").order_by(Round.id))
              if r.is_team and r.id not in taken]
    return render_template("final/list.html", finals=existing, rounds=rounds, form=form)


@bp.route("/admin/finals/<int:final_id>")
@organizer_required
def review(final_id: int):
    final = _final_or_404(final_id)
    teams = {ft.id: ft for ft in final.teams}
    screen_url = url_for("final.screen", token=final.screen_token, _external=True)
    return render_template("final/review.html", final=final, teams=teams, form=PostForm(), screen_url=screen_url,
                           parts=final_service.rules.PARTS)


@bp.route("/admin/finals/<int:final_id>/swap/<int:number>", methods=["POST"])
@organizer_required
def swap(final_id: int, number: int):
    """Swap question `number` (1-based, as the review page numbers them)."""
    final = _final_or_404(final_id)
    if PostForm().validate():
        try:
            final_service.swap_question(final, number - 1)
            flash(f"第 {number} 题已换题", "info")
        except ServiceError as exc:
            flash(str(exc), "error")
    return redirect(url_for("final.review", final_id=final_id) + f"#q-{number}")


@bp.route("/admin/finals/<int:final_id>/slips")
@organizer_required
def slips(final_id: int):
    final = _final_or_404(final_id)
    return render_template("final/slips.html", final=final, slips=final_service.slips(final),
                           login_url=url_for("auth.login", _external=True))


@bp.route("/admin/finals/<int:final_id>/console")
@organizer_required
def console(final_id: int):
    final = _final_or_404(final_id)
    return render_template("final/console.html", final=final)


@bp.route("/buzzer")
@team_required
def buzzer():
    found = final_service.final_of_team_user(current_user)
    if found is None:
        abort(404)
    final, team = found
    return render_template("final/buzzer.html", final=final, team=team)


@bp.route("/screen/<token>")
def screen(token: str):
    final = db.session.scalar(select(Final).filter_by(screen_token=token))
    if final is None:
        abort(404)
    return render_template("final/screen.html", final=final, token=token)
