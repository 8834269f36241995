"""Who may see what: login wiring and one access decorator per actor.

Unauthenticated visitors are sent to the login page; a signed-in user of the wrong role gets
403. Ownership (a participant's own attempt) is checked in the views with a 404, so other
people's attempt ids are indistinguishable from ids that do not exist.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, session
from flask_login import current_user, login_required


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
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None


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
    without loading the user: hot routes check it inside their own queries."""
    value = session.get("_user_id")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def refusal_for(role: str):
    """What the decorator for `role` answers, for a route that skips it on its fast path: the
    login page for a visitor, 403 for another role, None for a user of that role."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role != role:
        abort(403)
    return None


organizer_required = _role_required("admin")
participant_required = _role_required("participant")
liaison_required = _role_required("liaison")
