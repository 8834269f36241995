"""Throttling failed sign-ins with Flask-Limiter (Redis in production, memory in the demo).

Only failures count (a correct sign-in costs nothing), in two buckets:
- per account *and* address (LOGIN_LIMIT_ACCOUNT): one machine guessing one person's password;
- per address (LOGIN_LIMIT_ADDRESS): one machine trying many accounts.
There is deliberately no bucket for an account alone: an attacker who could fill it would lock
that participant out at 9:00 from their own phone. An attacker's failures are charged to the
attacker's address, so the person still signs in from theirs.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from ..extensions import limiter


def _account() -> str:
    return (request.form.get("username") or "").strip()[:64]


def _account_and_address() -> str:
    return f"{_account()}@{get_remote_address()}"


def _failed(_response) -> bool:
    return bool(g.get("login_failed"))


def _on_breach(limit):
    """A 429 page in Chinese that says how long to wait (the view renders the form again)."""
    from flask import render_template

    from .forms import LoginForm

    seconds = max(1, int(limit.reset_at - _now()))
    wait = f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"
    message = f"登录失败次数过多，请 {wait}后再试"
    response = current_app.make_response((render_template("auth/login.html", form=LoginForm(), throttled=message), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def _now() -> float:
    import time

    return time.time()


def login_limits(view):
    """Decorate the sign-in view: both buckets, POST only, charged only when `g.login_failed`."""
    view = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ADDRESS"], key_func=get_remote_address,
                         methods=["POST"], deduct_when=_failed, on_breach=_on_breach, scope="login-address")(view)
    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"], key_func=_account_and_address,
                         methods=["POST"], deduct_when=_failed, on_breach=_on_breach, scope="login-account")(view)
