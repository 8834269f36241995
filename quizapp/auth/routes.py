"""Signing in and out. Participants use their admission number, organizers their user name."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services.accounts import verify_password
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    if user.is_admin:
        return url_for("organizer.index")
    return url_for("liaison.home") if user.is_liaison else url_for("participant.lobby")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(username=form.username.data.strip()))
        if verify_password(user, form.password.data) and user.active:
            login_user(user)
            target = request.args.get("next", "")
            # Only same-site paths: an absolute or scheme-relative "next" would be an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = home_for(user)
            return redirect(target)
        flash("准考证号（用户名）或密码错误，或账号已停用", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()  # CSRFProtect has already checked the token of this POST
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
