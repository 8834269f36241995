"""Competitions and rounds: create, edit, remove, open, close, publish, live progress."""
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..access import organizer_required
from ..auth.forms import PostForm
from ..banks.docs import DOC_TITLES
from ..clock import from_local, to_local
from ..extensions import db
from ..models import Attempt, Competition, Question, Round
from ..services import ServiceError, advancing, entry
from ..services import results as result_service
from ..services import rounds as round_service
from ..services.teams import form_teams
from . import bp
from .forms import TYPES, ReasonForm, RoundForm


@bp.route("/")
@organizer_required
def index():
    competitions = db.session.scalars(select(Competition).order_by(Competition.id.desc())).all()
    question_count = db.session.scalar(select(func.count()).select_from(Question).where(Question.is_current.is_(True)))
    return render_template("organizer/index.html", competitions=competitions, question_count=question_count)


@bp.route("/competitions/new", methods=["POST"])
@organizer_required
def new_competition():
    name = (request.form.get("name") or "").strip()
    if not name or len(name) > 200:
        flash("竞赛名称不能为空，且不超过 200 字", "error")
    else:
        db.session.add(Competition(name=name))
        db.session.commit()
        flash(f"已创建竞赛：{name}", "info")
    return redirect(url_for("organizer.index"))


def _round_form(round_: Round | None = None) -> RoundForm:
    form = RoundForm(obj=None)
    docs = db.session.scalars(select(Question.source_doc).where(Question.is_current.is_(True)).distinct()).all()
    form.doc.choices = [("", "全部题库")] + [(d, DOC_TITLES.get(d, d)) for d in sorted(docs)]
    if round_ is not None and request.method == "GET":
        for field in ("stage", "name", "time_limit_minutes", "multiple_rule", "draw_mode", "show_score",
                      "unit_method", "unit_k", "avoid_seen", "team_size", "team_scoring"):
            getattr(form, field).data = getattr(round_, field)
        form.team_scoring.data = round_.team_scoring or "shared"
        form.opens_at.data, form.closes_at.data = to_local(round_.opens_at), to_local(round_.closes_at)
        counts = {s["type"]: s["count"] for s in round_.rules}
        first = round_.rules[0] if round_.rules else {}
        form.doc.data, form.difficulty.data = first.get("doc") or "", str(first.get("difficulty") or "")
        for qtype, _ in TYPES:
            getattr(form, f"count_{qtype}").data = counts.get(qtype, 0)
            getattr(form, f"points_{qtype}").data = round_.points.get(qtype, 0)
    return form


def _spec(form: RoundForm, competition_id: int) -> round_service.RoundSpec:
    return round_service.RoundSpec(
        competition_id=competition_id, stage=form.stage.data, name=form.name.data,
        opens_at=from_local(form.opens_at.data), closes_at=from_local(form.closes_at.data),
        time_limit_minutes=form.time_limit_minutes.data, sections=form.sections(),
        points=form.points(), multiple_rule=form.multiple_rule.data, draw_mode=form.draw_mode.data,
        show_score=form.show_score.data, unit_method=form.unit_method.data, unit_k=form.unit_k.data,
        avoid_seen=form.avoid_seen.data, team_size=form.team_size.data, team_scoring=form.team_scoring.data,
    )


@bp.route("/competitions/<int:competition_id>/rounds/new", methods=["GET", "POST"])
@organizer_required
def new_round(competition_id: int):
    competition = db.get_or_404(Competition, competition_id)
    form = _round_form()
    if form.validate_on_submit():
        try:
            round_ = round_service.create_round(_spec(form, competition.id))
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("轮次已保存（尚未开放）", "info")
            return redirect(url_for("organizer.round_detail", round_id=round_.id))
    return render_template("organizer/round_form.html", form=form, competition=competition, round=None)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_round(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = _round_form(round_)
    if form.validate_on_submit():
        try:
            round_service.update_round(round_, _spec(form, round_.competition_id))
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("轮次已更新", "info")
            return redirect(url_for("organizer.round_detail", round_id=round_.id))
    return render_template("organizer/round_form.html", form=form, competition=round_.competition, round=round_)


@bp.route("/rounds/<int:round_id>/delete", methods=["POST"])
@organizer_required
def delete_round(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    try:
        round_service.delete_round(round_)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("organizer.round_detail", round_id=round_id))
    flash("已删除轮次", "info")
    return redirect(url_for("organizer.index"))


@bp.route("/rounds/<int:round_id>")
@organizer_required
def round_detail(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    group = request.args.get("group") or None
    progress = [p for p in round_service.progress_by_unit(round_) if not group or p.unit.group_name == group]
    totals = {key: sum(getattr(p, key) for p in progress) for key in ("registered", "not_started", "in_progress", "finished")}
    started = set(db.session.scalars(select(Attempt.user_id).filter_by(round_id=round_.id)))
    waiting = [u for u in db.session.scalars(entry.eligible_people(round_)) if u.id not in started
               and (not group or (u.unit and u.unit.group_name == group))]
    return render_template("organizer/round.html", round=round_, progress=progress, totals=totals, waiting=waiting,
                           availability=round_service.rule_availability(round_), form=PostForm(),
                           reason_form=ReasonForm(), next_round=advancing.next_round(round_),
                           groups=result_service.unit_groups(), group=group)


@bp.route("/rounds/<int:round_id>/<any(open, close, publish, unpublish, teams):action>", methods=["POST"])
@organizer_required
def change_status(round_id: int, action: str):
    round_ = db.get_or_404(Round, round_id)
    try:
        if action == "open":
            drawn = round_service.open_round(round_)
            flash(f"已开放本轮竞赛，已预先抽取 {drawn} 份试卷" if drawn else "已开放本轮竞赛", "info")
        elif action == "close":
            finalized = round_service.close_round(round_, request.form.get("reason", "").strip())
            flash(f"已结束本轮竞赛，{finalized} 份未交试卷已自动交卷并计分", "info")
        elif action == "teams":
            count = form_teams(round_)
            db.session.commit()
            flash(f"已组建 {count} 支队伍", "info")
        else:
            round_service.publish(round_, action == "publish")
            flash("成绩已公布，参赛人员可以查看得分、答案和解析" if action == "publish" else "已撤回公布", "info")
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("organizer.round_detail", round_id=round_.id))
