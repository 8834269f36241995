"""Background jobs in the browser: a job's page (progress bar, then the result), its progress
as JSON for static/job.js, running a failed or stalled job again, an export's download, and
the list of recent jobs. Every route is the organizer's; the rerun is a CSRF-checked POST."""
from urllib.parse import quote

from flask import abort, flash, redirect, render_template, send_file, url_for
from sqlalchemy import select

from ..access import organizer_required
from ..auth.forms import PostForm
from ..extensions import db
from ..models import Job
from ..services import ServiceError
from ..services import jobs as job_service
from . import bp


@bp.route("/jobs")
@organizer_required
def jobs_list():
    from .. import jobs  # noqa: F401 — the kind labels (a 体检 job is created without importing its handler)

    rows = db.session.scalars(select(Job).order_by(Job.id.desc()).limit(100)).all()
    return render_template("organizer/jobs.html", jobs=rows, labels=job_service.KIND_LABELS,
                           status_labels=job_service.STATUS_LABELS, stale={j.id for j in rows if job_service.is_stale(j)})


@bp.route("/jobs/<int:job_id>")
@organizer_required
def job_page(job_id: int):
    from .. import jobs  # noqa: F401 — the kind labels

    job = db.get_or_404(Job, job_id)
    return render_template("organizer/job.html", job=job, label=job_service.KIND_LABELS.get(job.kind, job.kind),
                           status=job_service.status(job), can_rerun=job_service.can_rerun(job), form=PostForm())


@bp.route("/jobs/<int:job_id>/status")
@organizer_required
def job_status(job_id: int):
    """{ok, status, status_label, done, total, percent, message, finished, stale} for job.js."""
    return job_service.status(db.get_or_404(Job, job_id))


@bp.route("/jobs/<int:job_id>/rerun", methods=["POST"])
@organizer_required
def job_rerun(job_id: int):
    job = db.get_or_404(Job, job_id)
    try:
        job_service.rerun(job)
        flash("已重新开始该任务", "info")
    except ServiceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("organizer.job_page", job_id=job.id))


@bp.route("/jobs/<int:job_id>/download")
@organizer_required
def job_download(job_id: int):
    """The file a finished export job wrote (instance/exports), under its Chinese name."""
    from ..jobs.exports import MIMETYPES, export_path

    job = db.get_or_404(Job, job_id)
    result = job.result or {}
    if job.kind != "export" or job.status != "done" or result.get("format") not in MIMETYPES:
        abort(404)
    path = export_path(job.id, result["format"])
    if not path.is_file():
        abort(404, "导出的文件已被清理，请重新导出")
    response = send_file(path, mimetype=MIMETYPES[result["format"]], as_attachment=True, download_name=path.name)
    # The Chinese name in RFC 6266's filename*, an ASCII one for clients that read only filename=.
    name = result.get("download_name") or path.name
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{result.get('fallback_name') or path.name}\"; "
                                               f"filename*=UTF-8''{quote(name, safe='')}")
    return response


@bp.route("/rounds/<int:round_id>/export", methods=["POST"])
@organizer_required
def export_job(round_id: int):
    """Start a leaderboard export of a large round as a job (the GET page offers it)."""
    from flask import request
    from flask_login import current_user

    from ..jobs.exports import LABELS
    from ..models import Round

    round_ = db.get_or_404(Round, round_id)
    by, fmt = request.form.get("by", ""), request.form.get("format", "")
    if by not in LABELS or fmt not in ("xlsx", "csv"):
        abort(400, "导出参数无效")
    job = job_service.submit("export", {"round_id": round_.id, "by": by, "format": fmt},
                             f"{round_.name}-{LABELS[by][0]}.{fmt}", current_user.id)
    return redirect(url_for("organizer.job_page", job_id=job.id))
