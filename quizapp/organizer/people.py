"""People: rosters imported in the browser (report first), editing, disabling, password
resets and unit liaisons. Units and admission slips: organizer/units.py."""
import secrets
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..access import organizer_required
from ..auth.forms import PostForm
from ..extensions import db
from ..models import Unit, User
from ..jobs import roster as roster_job
from ..services import ServiceError, people
from ..services import jobs as job_service
from ..services.accounts import NumberRule, import_roster, read_roster
from ..services.rosters import MAX_FILE_BYTES
from ..services.results import unit_groups
from ..services.units import sorted_units, unit_choices, unit_order
from ..validation import query_int, query_str
from ..views_support import form_errors, upload_folder
from . import bp
from .forms import LiaisonForm, PersonForm, ReasonForm
from .import_forms import RosterUploadForm

PAGE = 100


@bp.route("/people")
@organizer_required
def people_list():
    filters = {key: query_str(key) for key in ("group", "q", "role")}
    filters["unit"] = str(unit_id) if (unit_id := query_int("unit")) else None
    query = select(User).outerjoin(Unit, User.unit_id == Unit.id).where(User.role != "admin")
    if filters["unit"]:
        query = query.where(User.unit_id == int(filters["unit"]))
    if filters["group"]:
        query = query.where(Unit.group_name == filters["group"])
    if filters["role"]:
        query = query.where(User.role == filters["role"])
    if filters["q"]:
        like = f"%{filters['q']}%"
        query = query.where(or_(User.name.like(like), User.username.like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = query_int("page", 1)
    rows = db.session.scalars(query.order_by(unit_order(User.unit_id), User.username).offset((page - 1) * PAGE).limit(PAGE)).all()
    units = sorted_units()
    return render_template("organizer/people.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE)),
                           filters=filters, units=units, groups=unit_groups(), upload_form=RosterUploadForm(),
                           liaison_form=_liaison_form())


def _liaison_form() -> LiaisonForm:
    form = LiaisonForm()
    form.unit_id.choices = unit_choices()
    return form



@bp.route("/people/import", methods=["POST"])
@organizer_required
def upload_roster():
    """Validate an uploaded roster and show the report; nothing is written until confirmed."""
    form = RosterUploadForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("organizer.people_list"))
    original = Path(form.file.data.filename or "roster.csv").name
    data = form.file.data.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        flash(f"名单文件不能超过 {MAX_FILE_BYTES // 1048576} MB，请拆分后分别上传", "error")
        return redirect(url_for("organizer.people_list"))
    suffix = ".xlsx" if original.lower().endswith(".xlsx") else ".csv"
    token = secrets.token_hex(12) + suffix
    path = upload_folder() / token
    path.write_bytes(data)
    create_units = form.create_units.data == "1"
    numbering = NumberRule(form.number_prefix.data or "", form.number_width.data or 4)
    report = read_roster(path, create_units=create_units, display_name=original, numbering=numbering)
    if report.errors:
        path.unlink(missing_ok=True)  # nothing to confirm
    return render_template("organizer/roster_report.html", report=report, original=original, token=token,
                           create_units=create_units, numbering=numbering, form=PostForm())


@bp.route("/people/import/<token>", methods=["POST"])
@organizer_required
def confirm_roster(token: str):
    """Re-read the waiting file with the same choices and write it; a file that no longer
    passes (someone took a number meanwhile) shows its report again and writes nothing."""
    name, _, suffix = token.partition(".")
    if not name.isalnum() or suffix not in ("csv", "xlsx"):
        abort(404)
    path = upload_folder() / token
    if not path.is_file():
        flash("上传的文件已失效，请重新上传", "error")
        return redirect(url_for("organizer.people_list"))
    create_units = request.form.get("create_units") == "1"
    try:
        numbering = NumberRule(request.form.get("number_prefix", ""), request.form.get("number_width", "4"))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("organizer.people_list"))
    original = request.form.get("original", "")[:200] or token
    if path.stat().st_size > roster_job.INLINE_MAX_BYTES:
        # A large roster is read, checked again and written by a background job (quizapp.jobs.roster).
        job = job_service.submit("roster_import", roster_job.params(path, original, create_units, numbering, True),
                                 original, current_user.id)
        return redirect(url_for("organizer.job_page", job_id=job.id))
    report = read_roster(path, create_units=create_units, display_name=original, numbering=numbering)
    if report.errors:
        path.unlink(missing_ok=True)
        return render_template("organizer/roster_report.html", report=report, original=original, token=token,
                               create_units=create_units, numbering=numbering, form=PostForm()), 400
    try:
        issued = import_roster(report)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("organizer.people_list"))
    finally:
        path.unlink(missing_ok=True)
    numbers = f"，准考证号 {report.generated} 由系统生成" if report.generated else ""
    flash(f"已导入 {len(issued)} 人（新建单位 {len(report.new_units)} 个{numbers}）。初始密码可在准考证打印页查看。", "info")
    return redirect(url_for("organizer.slips"))


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@organizer_required
def person(user_id: int):
    user = db.get_or_404(User, user_id)
    if user.is_admin:
        abort(404)
    form = PersonForm(obj=user)
    form.unit_id.choices = unit_choices()
    if form.validate_on_submit():
        try:
            people.update_person(user, form.name.data, form.unit_id.data, form.phone.data or "")
            flash("已保存", "info")
            return redirect(url_for("organizer.person", user_id=user.id))
        except ServiceError as exc:
            flash(str(exc), "error")
    return render_template("organizer/person.html", user=user, form=form, reason_form=ReasonForm(), post_form=PostForm(),
                           new_password=None)


@bp.route("/people/<int:user_id>/<any(disable, enable, reset):action>", methods=["POST"])
@organizer_required
def person_action(user_id: int, action: str):
    user = db.get_or_404(User, user_id)
    if user.is_admin:
        abort(404)
    try:
        if action == "reset":
            password = people.reset_password(user)
            form = PersonForm(obj=user)
            form.unit_id.choices = unit_choices()
            return render_template("organizer/person.html", user=user, form=form, reason_form=ReasonForm(),
                                   post_form=PostForm(), new_password=password)
        people.set_active(user, action == "enable", request.form.get("reason", ""))
        flash("已启用" if action == "enable" else "已停用，该人员不能再登录", "info")
    except ServiceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("organizer.person", user_id=user.id))


@bp.route("/liaisons", methods=["POST"])
@organizer_required
def create_liaison():
    form = _liaison_form()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("organizer.people_list", role="liaison"))
    try:
        password = people.create_liaison(db.get_or_404(Unit, form.unit_id.data), form.username.data.strip(), form.name.data.strip())
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"已设置联络员 {form.username.data}，初始密码：{password}（只显示这一次，请转交联络员）", "info")
    return redirect(url_for("organizer.people_list", role="liaison"))
