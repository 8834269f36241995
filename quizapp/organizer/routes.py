"""Competitions and rounds: create, edit, remove, open, close, publish, live progress."""
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..access import organizer_required
from ..validation import query_str
from ..auth.forms import PostForm
from .. import clock
from ..clock import from_local, to_local
from ..extensions import db
from ..models import Competition, Question, Round
from ..services import ServiceError, advancing, health_jobs
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
    """A competition, by default with draft 初赛/复赛/决赛 rounds to adjust."""
    try:
        competition = round_service.create_competition(request.form.get("name", ""),
                                                       with_rounds=request.form.get("default_rounds") == "1")
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"已创建竞赛：{competition.name}" + ("，并预设了初赛、复赛、决赛三个轮次（未开放），请逐一修改时间和试卷"
                                              if competition.rounds else ""), "info")
    return redirect(url_for("organizer.index"))


def _round_form(round_: Round | None = None, competition: Competition | None = None) -> RoundForm:
    form = RoundForm(obj=None)
    if round_ is None and competition is not None and request.method == "GET":
        form.stage.data = form.name.data = round_service.next_stage(competition)
    form.doc.choices = [("", "全部现行有效的题库")] + round_service.doc_choices()
    if round_ is not None and request.method == "GET":
        for field in ("stage", "name", "time_limit_minutes", "multiple_rule", "draw_mode", "show_score",
                      "unit_method", "unit_k", "avoid_seen", "team_size", "team_scoring", "allow_superseded",
                      "allow_mixed_versions"):
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
        allow_superseded=form.allow_superseded.data, allow_mixed_versions=form.allow_mixed_versions.data,
    )


def _render_form(form: RoundForm, competition: Competition, round_: Round | None):
    """The round form with, per type, the questions available for what is set and the total
    score as set (both also kept up to date in the browser by round_form.js)."""
    counts, points = {}, {}
    for qtype, _ in TYPES:
        count, value = getattr(form, f"count_{qtype}").data, getattr(form, f"points_{qtype}").data
        counts[qtype] = count if isinstance(count, int) and 0 < count <= 500 else 0
        points[qtype] = float(value) if value is not None else 0.0
    sections = [{"type": t, "count": n, "doc": form.doc.data or None,
                 "difficulty": int(form.difficulty.data) if form.difficulty.data in ("1", "2", "3") else None}
                for t, n in counts.items() if n]
    superseded = bool(form.allow_superseded.data)
    avail = {row["type"]: row for row in round_service.sections_availability(
        [{**s, "include_superseded": superseded} for s in sections])}
    versions = round_service.rule_version_problems(sections, superseded, bool(form.allow_mixed_versions.data))
    total = {"questions": sum(counts.values()), "points": round(sum(counts[t] * points[t] for t in counts), 2)}
    return render_template("organizer/round_form.html", form=form, competition=competition, round=round_,
                           types=TYPES, avail=avail, total=total, version_problems=versions)


def _show_problems(form: RoundForm, exc: ServiceError) -> None:
    """A refused spec's messages beside their own fields; anything else as a flash."""
    fields = getattr(exc, "fields", None)
    if not fields:
        flash(str(exc), "error")
        return
    for name, messages in fields.items():
        getattr(form, name).errors = list(getattr(form, name).errors) + messages
    flash("轮次未保存，请按各项旁的提示修改", "error")


@bp.route("/rounds/availability", methods=["POST"])
@organizer_required
def availability():
    """JSON for the round form as it is edited: {doc, difficulty, counts: {type: n}} →
    per section how many questions are needed and available. CSRF via the X-CSRFToken header."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("counts"), dict):
        return jsonify(ok=False, error="请求格式不正确"), 400
    doc = data.get("doc") if isinstance(data.get("doc"), str) else ""
    difficulty = str(data.get("difficulty") or "")
    superseded, mixed = data.get("allow_superseded") is True, data.get("allow_mixed_versions") is True
    sections = []
    for qtype, _ in TYPES:
        count = data["counts"].get(qtype)
        count = count if isinstance(count, int) and not isinstance(count, bool) else _int(count)
        if count and 0 < count <= 500:
            sections.append({"type": qtype, "count": count, "doc": doc[:100] or None,
                             "difficulty": int(difficulty) if difficulty in ("1", "2", "3") else None})
    return jsonify(ok=True, sections=round_service.sections_availability(
        [{**s, "include_superseded": superseded} for s in sections]),
        versions=round_service.rule_version_problems(sections, superseded, mixed))


def _int(value) -> int:
    try:
        return int(str(value)) if value is not None and len(str(value)) < 6 else 0
    except ValueError:
        return 0


@bp.route("/competitions/<int:competition_id>/rounds/new", methods=["GET", "POST"])
@organizer_required
def new_round(competition_id: int):
    competition = db.get_or_404(Competition, competition_id)
    form = _round_form(competition=competition)
    if form.validate_on_submit():
        try:
            round_ = round_service.create_round(_spec(form, competition.id))
        except ServiceError as exc:
            _show_problems(form, exc)
        else:
            flash("轮次已保存（尚未开放）", "info")
            return redirect(url_for("organizer.round_detail", round_id=round_.id))
    return _render_form(form, competition, None)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_round(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = _round_form(round_)
    if form.validate_on_submit():
        try:
            round_service.update_round(round_, _spec(form, round_.competition_id))
        except ServiceError as exc:
            _show_problems(form, exc)
        else:
            flash("轮次已更新", "info")
            return redirect(url_for("organizer.round_detail", round_id=round_.id))
    return _render_form(form, round_.competition, round_)


@bp.route("/rounds/<int:round_id>/delete", methods=["POST"])
@organizer_required
def delete_round(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if request.form.get("confirm") != "1":
        flash("请先勾选“确认删除”再删除轮次", "error")
        return redirect(url_for("organizer.round_detail", round_id=round_id))
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
    group = query_str("group")
    progress = round_service.round_progress(round_, group)
    return render_template("organizer/round.html", round=round_, progress=progress.units, totals=progress.totals,
                           waiting=progress.waiting, availability=round_service.rule_availability(round_),
                           paper_total=round_service.paper_total(round_), form=PostForm(),
                           reason_form=ReasonForm(), next_round=advancing.next_round(round_),
                           groups=result_service.unit_groups(), group=group, closes_early=round_.closes_at > clock.now())


@bp.route("/rounds/<int:round_id>/progress")
@organizer_required
def round_progress(round_id: int):
    """The round page's figures as JSON, for its 30-second refresh (the page itself stays)."""
    round_ = db.get_or_404(Round, round_id)
    progress = round_service.round_progress(round_, query_str("group"))
    return jsonify(ok=True, status=round_.phase, status_label=round_.status_label, totals=progress.totals,
                   waiting=len(progress.waiting),
                   units={str(r.unit.id): {"registered": r.registered, "not_started": r.not_started,
                                           "in_progress": r.in_progress, "finished": r.finished} for r in progress.units})


def _open_with_job(round_: Round):
    """For a round open to more than quizapp.jobs.rounds.INLINE_MAX people: the job that draws
    its papers and then opens it (the one already under way, if any), else None."""
    from flask_login import current_user

    from ..jobs import rounds as round_jobs
    from ..services import jobs as job_service
    from ..services.drawing import eligible_count

    if round_.status != "draft" or eligible_count(round_) <= round_jobs.INLINE_MAX:
        return None
    running = job_service.active_for("round_open", "round_id", round_.id)
    if running is not None:
        return running
    round_service.check_can_open(round_)  # refuse at once, not in the job, when the banks fall short
    return job_service.submit("round_open", {"round_id": round_.id}, round_.name, current_user.id)


@bp.route("/rounds/<int:round_id>/<any(open, close, publish, unpublish, teams):action>", methods=["POST"])
@organizer_required
def change_status(round_id: int, action: str):
    round_ = db.get_or_404(Round, round_id)
    try:
        if action == "open" and (job := _open_with_job(round_)) is not None:
            return redirect(url_for("organizer.job_page", job_id=job.id))
        if action == "open":
            drawn = round_service.open_round(round_)
            flash(f"已开放本轮竞赛，已预先抽取 {drawn} 份试卷" if drawn else "已开放本轮竞赛", "info")
        elif action == "close":
            if round_.closes_at > clock.now() and request.form.get("confirm") != "1":
                raise ServiceError("提前结束前请勾选“确认提前结束”")
            finalized = round_service.close_round(round_, request.form.get("reason", "").strip())
            flash(f"已结束本轮竞赛，{finalized} 份未交试卷已自动交卷并计分", "info")
            health_jobs.after_round_change(round_, current_user.id)  # the 体检 is ready before anyone opens it
        elif action == "teams":
            count = form_teams(round_)
            db.session.commit()
            flash(f"已组建 {count} 支队伍", "info")
        else:
            round_service.publish(round_, action == "publish")
            if action == "publish":
                health_jobs.after_round_change(round_, current_user.id)
            flash("成绩已公布，参赛人员可以查看得分、答案和解析" if action == "publish" else "已撤回公布", "info")
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("organizer.round_detail", round_id=round_.id))
