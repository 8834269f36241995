"""The liaison's 体检 report of their own unit (the organizer sees any unit's at
/admin/health/units/<id>). Only rounds whose results are released (quizapp.services.release)
are reported; another unit's report is 404, like any other unit's data. The report is the kept
one (quizapp.services.health_jobs), never computed here: before it is computed the page says so
(and makes sure the job is under way); a report a correction made stale is shown with a notice."""
from __future__ import annotations

import io
from urllib.parse import quote

from flask import Response, abort, render_template, request
from flask_login import current_user

from .. import charts
from ..access import liaison_required
from ..extensions import db
from ..formatting import format_duration, score_number
from ..models import Round, Unit
from ..services import ServiceError, health, health_jobs
from ..services.health_export import XLSX_TYPE
from ..services.health_report import unit_report
from ..services.health_texts import EXPLANATIONS, TYPE_NAMES
from ..services.release import results_released
from ..services.results import format_time
from ..spreadsheet import write_xlsx
from .routes import bp


def _released_rounds() -> list[Round] | str:
    """The rounds of ?rounds=…, or the reason in Chinese why they cannot be shown yet."""
    ids = health.parse_round_ids(request.args.get("rounds"))
    rounds = [db.session.get(Round, i) for i in ids]
    if not ids or any(r is None or r.status == "draft" for r in rounds):
        abort(404)
    if not all(results_released(r) for r in rounds):
        return "成绩公布后才能查看本单位的体检报告。"
    return rounds


def _report_page(unit_id: int):
    if unit_id != current_user.unit_id:
        abort(404)
    rounds = _released_rounds()
    if isinstance(rounds, str):
        return render_template("liaison/report_unavailable.html", message=rounds)
    try:
        kept = health_jobs.state(rounds)
        job = kept.job
        if (kept.report is None or kept.stale) and job is None and kept.problem is None:
            job = health_jobs.ensure(rounds)  # normally started when the round closed; here if that failed
    except ServiceError as exc:
        return render_template("liaison/report_unavailable.html", message=str(exc))
    if kept.report is None:
        return render_template("liaison/report_unavailable.html", refresh=True,
                               message="本单位体检报告正在统计，请过一两分钟刷新本页查看。")
    unit = db.get_or_404(Unit, unit_id)
    report = kept.report
    return render_template("liaison/report.html", rounds=rounds, key=health.round_key(r.id for r in rounds),
                           computed_at=report.computed_at, charts=charts, explanations=EXPLANATIONS,
                           type_names=TYPE_NAMES, organizer=False, stale=report.stale, recompute=job,
                           recompute_status=None, problem=kept.problem if report.stale else None,
                           **unit_report(rounds, report.payload, unit))


@bp.route("/report")
@liaison_required
def report():
    return _report_page(current_user.unit_id)


@bp.route("/units/<int:unit_id>/report")
@liaison_required
def unit_report_page(unit_id: int):
    return _report_page(unit_id)


@bp.route("/report/export")
@liaison_required
def report_export():
    """The unit's people's results in the released rounds (the safe writer: no cell is a formula)."""
    rounds = _released_rounds()
    if isinstance(rounds, str):
        return render_template("liaison/report_unavailable.html", message=rounds)
    from ..services.results import individual_leaderboard

    rows = []
    for round_ in rounds:
        people = individual_leaderboard(round_, unit_id=current_user.unit_id, sweep=False)
        for person in people:
            unit_rank = 1 + sum(1 for p in people if p.rank is not None and person.rank is not None and p.rank < person.rank)
            rows.append([round_.name, person.rank or "—", unit_rank if person.rank else "—", person.name,
                         person.username, score_number(person.score), score_number(person.max_score),
                         format_duration(person.time_used), format_time(person.submitted_at), person.status])
    buffer = io.BytesIO()
    write_xlsx(buffer, "本单位成绩", ["轮次", "全县名次", "单位内名次", "姓名", "准考证号", "得分", "满分", "用时",
                                  "交卷时间", "状态"], rows, [16, 10, 10, 12, 16, 8, 8, 12, 20, 10])
    name = f"{current_user.unit.name}-成绩.xlsx"
    disposition = f"attachment; filename=\"unit-results.xlsx\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(buffer.getvalue(), content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})
