"""Banks in the browser: upload with a lint report before import, browse and search questions,
disable a question, correct a key or void a question."""
import os
import re
import secrets
import shutil
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..access import organizer_required
from ..auth.forms import PostForm
from ..banks.lint import lint_paths
from ..banks.loader import MAX_BANK_BYTES
from ..banks.sources import load_sources
from ..extensions import db
from ..models import Bank, Correction, Question
from ..services import ServiceError, corrections, health_jobs
from ..services.banks import BankImportError, import_banks, preview_changes
from ..validation import query_int, query_str
from ..views_support import form_errors, upload_folder
from . import bp
from .forms import CorrectionForm, VoidForm
from .import_forms import BankUploadForm

PAGE = 50
MAX_BANK_FILES = 20



def _sources():
    folder = current_app.config.get("SOURCES_DIR")
    return load_sources(folder) if folder else None


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
    return render_template("organizer/banks.html", table=table, form=BankUploadForm())


@bp.route("/banks/upload", methods=["POST"])
@organizer_required
def upload_bank():
    """Lint the uploaded files together and show the report; nothing is imported until confirmed.
    Files keep their own names (shown in errors and stored as each bank's file name)."""
    form = BankUploadForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("organizer.banks"))
    token = secrets.token_hex(12)
    folder = upload_folder() / f"banks-{token}"
    try:
        paths = _save_bank_files(form.file.data, folder)
    except ServiceError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        flash(str(exc), "error")
        return redirect(url_for("organizer.banks"))
    files, errors = lint_paths(paths, _sources())
    messages = [str(e).replace(str(folder) + os.sep, "") for e in errors]
    report = preview_changes(files) if not errors else None
    if errors:
        shutil.rmtree(folder, ignore_errors=True)  # nothing to confirm
    return render_template("organizer/bank_upload.html", originals=[p.name for p in paths], token=token,
                           errors=messages, files=files, report=report, checked=_sources() is not None, form=PostForm())


def _save_bank_files(uploads, folder: Path) -> list[Path]:
    """Save each upload under its own (cleaned) name in `folder`; ServiceError, in Chinese, for
    too many files, a name used twice, or a file over the bank size limit."""
    if len(uploads) > MAX_BANK_FILES:
        raise ServiceError(f"一次最多上传 {MAX_BANK_FILES} 个题库文件")
    folder.mkdir(parents=True)
    paths = []
    for upload in uploads:
        name = _clean_name(upload.filename)
        if name is None:
            raise ServiceError(f"文件名无效：{upload.filename}（应以 .yaml 或 .yml 结尾）")
        data = upload.stream.read(MAX_BANK_BYTES + 1)
        if len(data) > MAX_BANK_BYTES:
            raise ServiceError(f"{name} 超过 {MAX_BANK_BYTES // 1048576} MB，请拆分为多个文件后上传")
        path = folder / name
        if path.exists():
            raise ServiceError(f"两个文件同名：{name}")
        path.write_bytes(data)
        paths.append(path)
    return paths


def _clean_name(raw: str | None) -> str | None:
    """The file's own name without any folder part or control characters, or None if unusable."""
    name = "".join(ch for ch in re.split(r"[\\/]", raw or "")[-1] if ch.isprintable()).strip()
    if not name or name.startswith(".") or len(name) > 120 or Path(name).suffix.lower() not in (".yaml", ".yml"):
        return None
    return name


@bp.route("/banks/import/<token>", methods=["POST"])
@organizer_required
def import_uploaded_bank(token: str):
    if not token.isalnum():
        abort(404)
    folder = upload_folder() / f"banks-{token}"
    paths = sorted(folder.glob("*")) if folder.is_dir() else []
    if not paths:
        flash("上传的文件已失效，请重新上传", "error")
        return redirect(url_for("organizer.banks"))
    try:
        report = import_banks(paths, _sources())
    except BankImportError as exc:
        flash(f"导入失败：{exc}", "error")
    else:
        flash(f"已导入：新增 {report.added}，更新 {report.changed}，未变 {report.unchanged}（{len(paths)} 个文件）", "info")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return redirect(url_for("organizer.banks"))


@bp.route("/questions")
@organizer_required
def questions():
    filters = {key: query_str(key) for key in ("bank", "topic", "type", "q", "state")}
    filters["difficulty"] = str(level) if (level := query_int("difficulty", max=9)) else None
    query = select(Question).join(Bank).where(Question.is_current.is_(True))
    if filters["bank"]:
        query = query.where(Bank.slug == filters["bank"])
    if filters["topic"]:
        query = query.where(Question.topic == filters["topic"])
    if filters["type"]:
        query = query.where(Question.type == filters["type"])
    if filters["difficulty"]:
        query = query.where(Question.difficulty == int(filters["difficulty"]))
    if filters["state"] == "disabled":
        query = query.where(Question.disabled.is_(True))
    elif filters["state"] == "void":
        query = query.where(Question.void.is_not(None))
    if filters["q"]:
        like = f"%{filters['q']}%"
        query = query.where(or_(Question.stem.like(like), Question.qid.like(like), Question.explanation.like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = query_int("page", 1)
    rows = db.session.scalars(query.order_by(Question.qid).offset((page - 1) * PAGE).limit(PAGE)).all()
    banks_ = db.session.scalars(select(Bank).order_by(Bank.slug)).all()
    topics = db.session.scalars(select(Question.topic).where(Question.is_current.is_(True)).distinct().order_by(Question.topic)).all()
    return render_template("organizer/questions.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE)), filters=filters, banks=banks_, topics=topics)


@bp.route("/questions/<int:question_id>")
@organizer_required
def question_detail(question_id: int):
    question = db.get_or_404(Question, question_id)
    history = db.session.scalars(select(Correction).filter_by(qid=question.qid).order_by(Correction.id.desc())).all()
    versions = db.session.scalars(select(Question).filter_by(qid=question.qid).order_by(Question.version)).all()
    return render_template("organizer/question.html", question=question, history=history, versions=versions,
                           correction_form=CorrectionForm(), void_form=VoidForm(), form=PostForm())


@bp.route("/questions/<int:question_id>/<any(disable, enable, correct, void):action>", methods=["POST"])
@organizer_required
def change_question(question_id: int, action: str):
    question = db.get_or_404(Question, question_id)
    try:
        if action in ("disable", "enable"):
            corrections.set_disabled(question, action == "disable")
            flash("已停用：新试卷不再抽到此题" if action == "disable" else "已重新启用", "info")
        else:
            form = CorrectionForm() if action == "correct" else VoidForm()
            if not form.validate_on_submit():
                raise ServiceError(form_errors(form))
            if action == "correct":
                result = corrections.correct_key(question, form.answer.data, form.reason.data)
            else:
                result = corrections.void_question(question, form.mode.data, form.reason.data)
            # Committed: now recompute the 体检 reports the correction made stale (never fails it).
            health_jobs.after_correction(current_user.id)
            flash(f"已重新计分：{len(result.report)} 人成绩或名次变化", "info")
            return redirect(url_for("organizer.correction_report", correction_id=result.id))
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("organizer.question_detail", question_id=question.id))


@bp.route("/corrections/<int:correction_id>")
@organizer_required
def correction_report(correction_id: int):
    correction = db.get_or_404(Correction, correction_id)
    question = db.session.scalar(select(Question).filter_by(qid=correction.qid, is_current=True))
    return render_template("organizer/correction.html", correction=correction, question=question,
                           rows=corrections.report_rows(correction.report))
