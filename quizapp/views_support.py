"""What every page shares: template filters, error pages, and security headers."""
from __future__ import annotations

from pathlib import Path

from flask import jsonify, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from . import clock
from .banks.docs import article_label, doc_title
from .banks.loader import TYPE_LABELS
from .extensions import db
from .formatting import format_duration, format_score
from .paths import MIGRATIONS

MIGRATIONS_DIR = MIGRATIONS  # in the package when installed from the wheel, else in the checkout

ERROR_MESSAGES = {
    400: "请求无效",
    403: "没有权限访问此页面",
    404: "页面不存在",
    405: "请求方法不允许",
    413: "提交的内容太大（上传文件请不超过规定大小）",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后重试",
    503: "服务暂时不可用，请稍后刷新",
}
DATABASE_DOWN = "数据库暂时无法连接，请稍后刷新"

# Everything is served by the app itself: no inline script, no other host.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def form_errors(form) -> str:
    """All of a form's validation messages as one line, for a flash message."""
    return "；".join(message for messages in form.errors.values() for message in messages)


def upload_folder() -> Path:
    """Where uploaded files wait between the report and the organizer's confirmation."""
    from flask import current_app

    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wants_json() -> bool:
    """Whether an error should answer JSON: requests of the page's scripts (a JSON body, or
    Accept: application/json) and the quiz's API paths, whatever they send."""
    return (request.is_json or request.accept_mimetypes.best == "application/json"
            or request.path.endswith(("/answers", "/clock")))


def init_app(app) -> None:
    app.jinja_env.filters.update(
        local=lambda moment, fmt="%Y-%m-%d %H:%M": (clock.to_local(moment).strftime(fmt) if moment else ""),
        duration=format_duration,
        doc_title=doc_title,
        article_label=article_label,
        type_label=lambda qtype: TYPE_LABELS.get(qtype, qtype),
        score=format_score,
    )

    def error_page(code: int, message: str | None = None):
        """The error answer, built without the database (error.html needs no user and no
        context processor runs), so it still renders when the database is what failed."""
        message = message or ERROR_MESSAGES.get(code, "出错了")
        if wants_json():
            return jsonify(ok=False, error=message), code
        # Straight from the Jinja environment: render_template would run the context
        # processors, and Flask-Login's loads current_user from the database.
        return app.jinja_env.get_template("error.html").render(code=code, message=message), code

    def http_error(exc: HTTPException):
        if exc.response is not None:
            return exc.response  # a page made for this refusal (e.g. the sign-in form's 429)
        # A description given at abort() is ours and Chinese; werkzeug's defaults are English,
        # and so is Flask-Limiter's ("5 per 1 minute").
        own = exc.description if exc.description != type(exc).description and exc.code != 429 else None
        return error_page(exc.code, own)

    for code in ERROR_MESSAGES:
        app.register_error_handler(code, http_error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_down(exc):
        """The database refused or dropped the connection (restart, crash, network): 503, and
        the session is discarded so the next request starts with a fresh connection."""
        app.logger.error("数据库不可用：%s", exc)
        try:
            db.session.remove()
        except Exception:  # noqa: BLE001 — the connection is already gone; nothing to keep
            pass
        response, code = error_page(503, DATABASE_DOWN)
        response = app.make_response((response, code))
        response.headers["Retry-After"] = "10"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if wants_json():
            # The page's scripts read `csrf` as "this session's token is gone" (signed out or a
            # new sign-in elsewhere): they keep the answer queued and ask for a new sign-in.
            return jsonify(ok=False, error="登录状态已变化，请重新登录", csrf=True), 400
        return error_page(400, "页面已过期或缺少安全令牌（CSRF），请刷新页面后重试")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            # Quiz pages and answers must never come back from a cache after logout or on another user.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
