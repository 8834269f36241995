"""The organizer's pages: rounds, live progress, leaderboards, exports, banks."""
import io
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select

from ..access import organizer_required
from ..auth.forms import PostForm
from ..banks.docs import DOC_TITLES
from ..clock import from_local
from ..extensions import db
from ..models import Bank, Competition, Question, Round
from ..services import ServiceError
from ..services import results as result_service
from ..services import rounds as round_service
from .forms import RoundForm

bp = Blueprint("organizer", __name__)


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


@bp.route("/competitions/<int:competition_id>/rounds/new", methods=["GET", "POST"])
@organizer_required
def new_round(competition_id: int):
    competition = db.get_or_404(Competition, competition_id)
    form = RoundForm()
    docs = db.session.scalars(select(Question.source_doc).where(Question.is_current.is_(True)).distinct()).all()
    form.doc.choices = [("", "全部题库")] + [(d, DOC_TITLES.get(d, d)) for d in sorted(docs)]
    if form.validate_on_submit():
        spec = round_service.RoundSpec(
            competition_id=competition.id, stage=form.stage.data, name=form.name.data,
            opens_at=from_local(form.opens_at.data), closes_at=from_local(form.closes_at.data),
            time_limit_minutes=form.time_limit_minutes.data, sections=form.sections(),
            points=form.points(), multiple_rule=form.multiple_rule.data, draw_mode=form.draw_mode.data,
            show_score=form.show_score.data, unit_method=form.unit_method.data, unit_k=form.unit_k.data,
        )
        try:
            round_ = round_service.create_round(spec)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("轮次已保存（尚未开放）", "info")
            return redirect(url_for("organizer.round_detail", round_id=round_.id))
    return render_template("organizer/round_form.html", form=form, competition=competition)


@bp.route("/rounds/<int:round_id>")
@organizer_required
def round_detail(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    progress = round_service.progress_by_unit(round_)
    totals = {key: sum(getattr(p, key) for p in progress) for key in ("registered", "not_started", "in_progress", "finished")}
    return render_template("organizer/round.html", round=round_, progress=progress, totals=totals,
                           availability=round_service.rule_availability(round_), form=PostForm())


@bp.route("/rounds/<int:round_id>/<any(open, close):action>", methods=["POST"])
@organizer_required
def change_status(round_id: int, action: str):
    round_ = db.get_or_404(Round, round_id)
    try:
        if action == "open":
            round_service.open_round(round_)
            flash("已开放本轮竞赛", "info")
        else:
            finalized = round_service.close_round(round_)
            flash(f"已结束本轮竞赛，{finalized} 份未交试卷已自动交卷并计分", "info")
    except ServiceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("organizer.round_detail", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/leaderboard")
@organizer_required
def leaderboard(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    rows = result_service.individual_leaderboard(round_)
    size = current_app.config["LEADERBOARD_PAGE_SIZE"]
    pages = max(1, -(-len(rows) // size))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    return render_template("organizer/leaderboard.html", round=round_, rows=rows[(page - 1) * size: page * size],
                           page=page, pages=pages, total=len(rows))


@bp.route("/rounds/<int:round_id>/units")
@organizer_required
def unit_board(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    return render_template("organizer/units.html", round=round_, rows=result_service.unit_leaderboard(round_),
                           method_label=result_service.UNIT_METHOD_LABELS[round_.unit_method])


@bp.route("/rounds/<int:round_id>/export")
@organizer_required
def export(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    by = request.args.get("by", "participant")
    fmt = request.args.get("format", "xlsx")
    if by not in ("participant", "unit") or fmt not in ("xlsx", "csv"):
        return render_template("error.html", code=400, message="导出参数无效"), 400
    headers, rows, widths = result_service.export_table(round_, by)
    title = f"{round_.name}-{'单位排名' if by == 'unit' else '个人排名'}"
    if fmt == "csv":
        buffer = io.StringIO()
        result_service.write_csv(buffer, headers, rows)
        return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": _attachment(f"{title}.csv")})
    buffer = io.BytesIO()
    result_service.write_xlsx(buffer, "单位排名" if by == "unit" else "个人排名", headers, rows, widths)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"{title}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _attachment(filename: str) -> str:
    return f"attachment; filename=\"leaderboard.csv\"; filename*=UTF-8''{quote(filename)}"


@bp.route("/banks")
@organizer_required
def banks():
    counts = db.session.execute(
        select(Bank, Question.type, func.count()).join(Question, Question.bank_id == Bank.id)
        .where(Question.is_current.is_(True)).group_by(Bank.id, Question.type).order_by(Bank.slug)
    ).all()
    table: dict = {}
    for bank, qtype, n in counts:
        table.setdefault(bank, {})[qtype] = n
    return render_template("organizer/banks.html", table=table)
