"""练习 (practice): the participant's study area, apart from competition rounds.

Pages: the practice home (每日一练, 我的错题, documents and chapters, recent sets), a set's
page (questions one at a time, with feedback after each), and the 错题本. The answer API
answers JSON only — 401 when signed out, never a redirect — and sends an item's correct
answer only in its reply to that item's submission.
"""
from __future__ import annotations

import json

from markupsafe import Markup
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, Length, Optional

from ..access import participant_required, refusal_for, session_user_id, session_version
from ..auth.forms import PostForm
from ..services import ServiceError
from ..services import practice as service
from ..services.attempts import NoSuchItem
from ..services.practice_answers import answer, own_session, recent_sessions, session_items
from ..services.practice_catalog import catalog
from ..validation import AppForm

bp = Blueprint("practice", __name__, url_prefix="/practice")
MAX_POSITION = 100  # a set has at most 30 questions


def script_json(value) -> Markup:
    """`value` as JSON safe inside <script type="application/json">: <, >, & and ' escaped, so
    no bank text can close the element; practice.js puts every text in as text, never HTML."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return Markup(text)


class StartForm(AppForm):
    kind = HiddenField(validators=[AnyOf(["chapter", "daily", "mistakes"], message="练习方式不正确")])
    document = StringField(validators=[Optional(), Length(max=100)])
    version = StringField(validators=[Optional(), Length(max=32)])
    topic = StringField(validators=[Optional(), Length(max=100)])
    count = IntegerField(validators=[Optional()])


@bp.route("/")
@participant_required
def home():
    return render_template("participant/practice.html", documents=catalog(), mistakes=service.mistake_count(current_user),
                           daily=service.daily_status(current_user), recent=recent_sessions(current_user),
                           counts=service.COUNTS, form=PostForm())


@bp.route("/start", methods=["POST"])
@participant_required
def start():
    form = StartForm()
    if not form.validate():
        flash("请求不正确，请重新选择", "error")
        return redirect(url_for("practice.home"))
    try:
        if form.kind.data == "daily":
            session_id = service.start_daily(current_user)
        elif form.kind.data == "mistakes":
            session_id = service.start_mistakes(current_user)
        else:
            session_id = service.start_chapter(current_user, form.document.data or "", form.version.data or None,
                                               form.topic.data or None, form.count.data or 10)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("practice.home"))
    return redirect(url_for("practice.session_page", session_id=session_id))


@bp.route("/sessions/<int:session_id>")
@participant_required
def session_page(session_id: int):
    practice = own_session(session_id, current_user)
    if practice is None:
        abort(404)
    items = session_items(practice)
    return render_template("participant/practice_session.html", practice=practice, items=script_json(items),
                           total=len(items), form=PostForm())


@bp.route("/sessions/<int:session_id>/answers", methods=["POST"])
def submit_answer(session_id: int):
    """JSON in: {"position": n, "response": …}; out: the feedback (see services.practice_answers)."""
    if (request.content_length or 0) > current_app.config["MAX_JSON_SAVE_BYTES"]:
        return jsonify(ok=False, error="请求内容过大"), 413
    payload = request.get_json(silent=True)
    position = payload.get("position") if isinstance(payload, dict) else None
    if type(position) is not int or not 1 <= position <= MAX_POSITION:
        return jsonify(ok=False, error="请求格式不正确"), 400
    owner, version = session_user_id(), session_version()
    try:
        if owner is None or version is None:
            raise NoSuchItem("未登录")
        return jsonify(answer(session_id, position, payload.get("response"), owner, version))
    except NoSuchItem:
        # Signed out, session ended, another role — or not their set: the full checks, in JSON.
        if (refusal := refusal_for("participant")) is not None:
            return refusal
        return jsonify(ok=False, error="题目不存在"), 404
    except ServiceError as exc:
        return jsonify(ok=False, error=str(exc)), 400


@bp.route("/mistakes")
@participant_required
def mistakes():
    return render_template("participant/practice_mistakes.html", rows=service.mistake_book(current_user),
                           form=PostForm())
