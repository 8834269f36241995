"""Signing in and out. Participants use their admission number, organizers their user name.

Sign-in is throttled on failures (quizapp.auth.throttle). A successful sign-in starts a fresh
session: a new CSRF token and the user's current session version (quizapp.access), so that a
later sign-out, disabling or password reset ends it everywhere.
"""
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, update

from ..access import SESSION_VERSION_KEY
from ..extensions import db
from ..models import User
from ..services.accounts import verify_password
from .forms import LoginForm
from .throttle import login_limits

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    if user.role == "team":
        return url_for("final.buzzer")
    if user.is_admin:
        return url_for("organizer.index")
    return url_for("liaison.home") if user.is_liaison else url_for("participant.lobby")


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None. Browsers drop tabs and newlines and
    read a backslash as a slash, so `/%09/evil.example/` or `/\\evil.example` would leave the site:
    any control character or backslash refuses the target, as does anything with a scheme or host."""
    if not target or any(ord(ch) < 32 or ch in "\\\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(username=form.username.data.strip()))
        # verify_password costs the same for an unknown name, a wrong password and a right one.
        if verify_password(user, form.password.data) and user.active:
            session.clear()  # a fresh session: no CSRF token or device token carried over
            login_user(user)
            session[SESSION_VERSION_KEY] = user.session_version
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        g.login_failed = True  # charged to the throttle's buckets
        flash("准考证号（用户名）或密码错误，或账号已停用", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends this person's sessions on every device (CSRFProtect has checked this POST's token)."""
    if current_user.is_authenticated:
        db.session.execute(update(User).where(User.id == current_user.id)
                           .values(session_version=User.session_version + 1))
        db.session.commit()
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
