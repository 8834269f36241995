"""Units edited in bulk (a table or an upload), the participants' sign-in address, and the
admission slips (准考证) that print it."""
import secrets
from pathlib import Path

import segno
from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from ..access import organizer_required
from ..auth.forms import PostForm
from ..extensions import db
from ..models import Competition, Unit, User
from ..services import ServiceError, app_settings, people
from ..services import units as unit_service
from ..services.results import unit_groups
from ..validation import query_int
from ..views_support import upload_folder
from . import bp

UPLOAD_SUFFIXES = (".csv", ".xlsx")


def _table_rows(form) -> list[unit_service.UnitRow]:
    """The bulk-edit table's rows: fields named id_N/name_N/group_N/order_N, N = 1, 2, …"""
    rows, line = [], 1
    while f"name_{line}" in form and line <= unit_service.MAX_ROWS:
        raw_id = form.get(f"id_{line}", "")
        unit_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None
        if raw_id and unit_id is None:
            unit_id = -1  # not a unit: reported as missing
        rows.append(unit_service.UnitRow(line, unit_id, form.get(f"name_{line}", ""),
                                         form.get(f"group_{line}", ""), form.get(f"order_{line}", "")))
        line += 1
    return rows


def _render_units(rows=None, problems=None, status=200):
    counts = dict(db.session.execute(select(User.unit_id, func.count()).where(User.role == "participant")
                                     .group_by(User.unit_id)).all())
    if rows is None:
        rows = [unit_service.UnitRow(0, u.id, u.name, u.group_name or "",
                                     "" if u.sort_order is None else str(u.sort_order))
                for u in unit_service.sorted_units()]
    blank = [unit_service.UnitRow(0, None, "", "", "") for _ in range(5)]
    return render_template("organizer/units_list.html", rows=rows + blank, counts=counts, groups=unit_groups(),
                           problems=problems or [], form=PostForm()), status


@bp.route("/units", methods=["GET", "POST"])
@organizer_required
def units():
    """The units table: every unit's name, group and order in one form (plus empty rows to
    add units). A POST applies the whole table in one transaction or, on any problem, shows
    the table again as submitted with the problems and writes nothing."""
    if request.method == "GET":
        return _render_units()
    if "unit_id" in request.form and "name_1" not in request.form:  # one unit's group (older form)
        unit = db.get_or_404(Unit, request.form.get("unit_id", type=int))
        people.set_unit_group(unit, request.form.get("group", ""))
        flash(f"已更新 {unit.name} 的分组", "info")
        return redirect(url_for("organizer.units"))
    rows = _table_rows(request.form)
    result = unit_service.bulk_update(rows)
    if result.problems:
        return _render_units(rows, result.problems, 422)
    flash(f"已保存：新增 {result.added} 个单位，修改 {result.changed} 个单位" if result.added or result.changed
          else "没有需要保存的修改", "info")
    return redirect(url_for("organizer.units"))


@bp.route("/units/upload", methods=["POST"])
@organizer_required
def upload_units():
    """A CSV/XLSX of 单位、分组、排序: existing names are updated, new names added, all at once."""
    upload = request.files.get("file")
    filename = Path(upload.filename or "").name if upload else ""
    if not filename:
        flash("请选择文件", "error")
        return redirect(url_for("organizer.units"))
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        flash("只接受 CSV 或 XLSX 文件", "error")
        return redirect(url_for("organizer.units"))
    path = upload_folder() / f"units-{secrets.token_hex(8)}{Path(filename).suffix.lower()}"
    upload.save(path)
    try:
        rows = unit_service.read_units_file(path, filename)
        result = unit_service.bulk_update(rows, source=filename[:60])
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("organizer.units"))
    finally:
        path.unlink(missing_ok=True)
    if result.problems:
        flash(f"{filename}：未导入任何单位。" + "；".join(result.problems[:50]), "error")
    else:
        flash(f"已从 {filename} 新增 {result.added} 个单位，修改 {result.changed} 个单位", "info")
    return redirect(url_for("organizer.units"))


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code of `text`, made here (no network); only paths, no user text."""
    return Markup(segno.make(text, error="m").svg_inline(scale=3, border=2, dark="#000", title="登录地址二维码"))


@bp.route("/slips", methods=["GET", "POST"])
@organizer_required
def slips():
    """Admission slips, four to an A4 page, for one unit or all, of one competition; a POST
    sets the participants' sign-in address printed on them."""
    if request.method == "POST":
        try:  # CSRFProtect has checked the token of every POST before this runs
            value = app_settings.set_participant_url(request.form.get("participant_url", ""))
            flash(f"参赛人员登录地址已设为 {value}", "info")
        except ServiceError as exc:
            flash(str(exc), "error")
        return redirect(url_for("organizer.slips", unit=query_int("unit"), competition=query_int("competition")))
    unit_id = query_int("unit")
    competitions = db.session.scalars(select(Competition).order_by(Competition.id.desc())).all()
    competition_id = query_int("competition")
    competition = next((c for c in competitions if c.id == competition_id), competitions[0] if competitions else None)
    login_url = app_settings.participant_url()
    return render_template("organizer/slips.html", slips=people.admission_slips(unit_id, competition),
                           units=unit_service.sorted_units(), unit_id=unit_id, competitions=competitions,
                           competition=competition, login_url=login_url, qr=qr_svg(login_url),
                           url_is_set=app_settings.participant_url_is_set(), form=PostForm())
