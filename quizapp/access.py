"""Who may see what: login wiring and one access decorator per actor.

Unauthenticated visitors are sent to the login page (API requests get JSON 401 instead: a
redirect would be followed by `fetch` and read as success); a signed-in user of the wrong role
gets 403. Ownership (a participant's own attempt) is checked in the views with a 404, so other
people's attempt ids are indistinguishable from ids that do not exist.

A session is valid only while the user is active and the session's version (SESSION_VERSION_KEY,
copied at sign-in) equals `user.session_version`: signing out, disabling a person and resetting
a password raise the version, which ends every session of that person on every device.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_required

SESSION_VERSION_KEY = "_sv"


def init_login(app, login_manager) -> None:
    from .extensions import db
    from .models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    # "basic", not "strong": a phone moving between Wi-Fi and mobile data changes its IP, and
    # "strong" would sign the participant out in the middle of a quiz.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active or session.get(SESSION_VERSION_KEY) != user.session_version:
            return None  # signed out elsewhere, disabled or password reset: this session has ended
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if is_api_request():
            return jsonify(ok=False, error="登录已失效，请重新登录", signed_out=True), 401
        return redirect(url_for(login_manager.login_view, next=request.full_path.rstrip("?")))


def is_api_request() -> bool:
    """A request made by the page's own scripts (autosave, clock), which must get a status and
    a JSON body, never a page."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _role_required(role: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != role:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def session_user_id() -> int | None:
    """The signed-in user's id as the signed session cookie names it (Flask-Login's key),
    without loading the user: hot routes check it inside their own queries, together with
    `session_version()` (and the user's being active)."""
    value = session.get("_user_id")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def session_version() -> int | None:
    value = session.get(SESSION_VERSION_KEY)
    return value if isinstance(value, int) else None


def live_participant(version_param: str):
    """SQL for what load_user accepts of a participant, for hot paths that check the session
    inside their own query instead of loading the user: an active participant whose session
    version equals the bound parameter `version_param` (the caller joins User)."""
    from sqlalchemy import and_, bindparam

    from .models import User

    return and_(User.role == "participant", User.active.is_(True), User.session_version == bindparam(version_param))


def refusal_for(role: str):
    """What the decorator for `role` answers, for a route that skips it on its fast path: the
    login page for a visitor, 403 for another role, None for a user of that role."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role != role:
        if is_api_request():
            return jsonify(ok=False, error="没有权限"), 403
        abort(403)
    return None


organizer_required = _role_required("admin")
participant_required = _role_required("participant")
liaison_required = _role_required("liaison")
team_required = _role_required("team")  # a 决赛 team device: its own final's buzzer, nothing else
