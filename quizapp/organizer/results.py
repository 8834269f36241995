"""Leaderboards, exports, prize settings and prize lists."""
import io
from urllib.parse import quote

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from ..access import organizer_required
from ..auth.forms import PostForm
from ..jobs import exports as export_jobs
from ..validation import query_int, query_str
from ..extensions import db
from ..models import Round
from ..prizes import LEVELS, awarder
from ..services import ServiceError, advancing, awards
from ..services.attempts import sweep_expired
from ..services import results as result_service
from . import bp
from .forms import PrizeForm

# by → (Chinese title, ASCII name for the file-name fallback, table builder)
EXPORTS = {
    "participant": ("个人排名", "leaderboard", lambda r: result_service.export_table(r, "participant")),
    "unit": ("单位排名", "unit-leaderboard", lambda r: result_service.export_table(r, "unit")),
    "prize-participant": ("个人获奖名单", "prizes", lambda r: awards.prize_table(r, "participant")),
    "prize-unit": ("单位获奖名单", "unit-prizes", lambda r: awards.prize_table(r, "unit")),
    "qualified": ("晋级名单", "qualified", advancing.qualified_table),
}
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


def table_download(headers: list[str], rows: list[list], widths: list[int], fmt: str, sheet: str,
                   filename: str, fallback: str) -> Response:
    """A table as an XLSX or CSV attachment (written by quizapp.spreadsheet, so no cell is a formula).

    The file is named `filename` (Chinese, in RFC 6266's filename*) with `fallback` — plain
    ASCII such as "round-3-leaderboard.xlsx" — for clients that only read filename="…"
    (werkzeug's own fallback would strip the Chinese and leave "-.xlsx")."""
    if fmt == "csv":
        text = io.StringIO()
        result_service.write_csv(text, headers, rows)
        data = text.getvalue().encode("utf-8")
    else:
        buffer = io.BytesIO()
        result_service.write_xlsx(buffer, sheet, headers, rows, widths)
        data = buffer.getvalue()
    disposition = f"attachment; filename=\"{fallback}.{fmt}\"; filename*=UTF-8''{quote(f'{filename}.{fmt}', safe='')}"
    return Response(data, content_type=MIMETYPES[fmt], headers={"Content-Disposition": disposition})


@bp.route("/rounds/<int:round_id>/leaderboard")
@organizer_required
def leaderboard(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    group = query_str("group")
    size = current_app.config["LEADERBOARD_PAGE_SIZE"]
    sweep_expired(round_.id)
    total = result_service.individual_count(round_, group)
    pages = max(1, -(-total // size))
    page = min(query_int("page", 1), pages)
    rows = result_service.individual_leaderboard(round_, group=group, sweep=False, offset=(page - 1) * size, limit=size)
    return render_template("organizer/leaderboard.html", round=round_, rows=rows, page=page, pages=pages, total=total,
                           groups=result_service.unit_groups(), group=group, headers=result_service.INDIVIDUAL_HEADERS,
                           rule=result_service.ranking_rule(round_))


@bp.route("/rounds/<int:round_id>/units")
@organizer_required
def unit_board(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    group = query_str("group")
    prize = awarder((round_.prizes or {}).get("unit"))
    rows = result_service.unit_leaderboard(round_, group)
    return render_template("organizer/units.html", round=round_, rows=rows, prizes=[prize(r.rank) for r in rows],
                           method_label=result_service.UNIT_METHOD_LABELS[round_.unit_method],
                           headers=result_service.unit_headers(round_), rule=result_service.ranking_rule(round_, "unit"),
                           groups=result_service.unit_groups(), group=group)


@bp.route("/rounds/<int:round_id>/export")
@organizer_required
def export(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    by = query_str("by", "participant")
    fmt = query_str("format", "xlsx")
    if by not in EXPORTS or fmt not in ("xlsx", "csv"):
        return render_template("error.html", code=400, message="导出参数无效"), 400
    label, ascii_name, build = EXPORTS[by]
    if by in ("participant", "unit") and result_service.individual_count(round_) > export_jobs.INLINE_MAX:
        # Too large to write inside a request: offer a background job (organizer/jobs.py, a POST).
        return render_template("organizer/job_start.html", round=round_, by=by, fmt=fmt, label=label,
                               count=result_service.individual_count(round_), form=PostForm())
    headers, rows, widths = build(round_)
    return table_download(headers, rows, widths, fmt, label, f"{round_.name}-{label}",
                          f"round-{round_.id}-{ascii_name}")


@bp.route("/rounds/<int:round_id>/prizes", methods=["GET", "POST"])
@organizer_required
def prizes(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = PrizeForm()
    if request.method == "GET" and round_.prizes:
        for kind in ("individual", "unit"):
            setting = round_.prizes.get(kind) or {}
            getattr(form, f"{kind}_mode").data = setting.get("mode", "counts")
            for i, level in enumerate(LEVELS, start=1):
                getattr(form, f"{kind}_{i}").data = setting.get(level) or None
    if form.validate_on_submit():
        try:
            awards.set_prizes(round_, form.settings())
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("奖项已保存", "info")
            return redirect(url_for("organizer.prizes", round_id=round_.id))
    individual = awards.prize_table(round_, "participant") if round_.prizes else None
    units = awards.prize_table(round_, "unit") if round_.prizes else None
    return render_template("organizer/prizes.html", round=round_, form=form, individual=individual, units=units,
                           rules=(result_service.ranking_rule(round_), result_service.ranking_rule(round_, "unit")))


@bp.route("/rounds/<int:round_id>/print/<any(prizes, qualified):what>")
@organizer_required
def print_list(round_id: int, what: str):
    round_ = db.get_or_404(Round, round_id)
    if what == "qualified":
        tables = [("晋级名单", "", *advancing.qualified_table(round_))]
    else:
        tables = [("个人获奖名单", result_service.ranking_rule(round_), *awards.prize_table(round_, "participant")),
                  ("单位获奖名单" if not round_.is_team else "团体获奖名单", result_service.ranking_rule(round_, "unit"),
                   *awards.prize_table(round_, "unit"))]
    return render_template("organizer/print_list.html", round=round_, tables=tables)
