"""Configuration: defaults, overridden by environment variables.

QUIZAPP_DATABASE_URL   SQLAlchemy URL; default an SQLite file in the instance folder
QUIZAPP_SECRET_KEY     required outside demo/debug/testing; signs sessions and CSRF tokens
QUIZAPP_DEMO=1         demo mode: a random secret key is kept in the instance folder
QUIZAPP_PASSWORD_HASH  werkzeug hash method (default scrypt N=2^15 r=8 p=3, an OWASP setting)
QUIZAPP_PROXY_COUNT    number of reverse proxies (nginx) in front; their X-Forwarded-For is trusted
QUIZAPP_SOURCES        folder of official source texts; banks uploaded in the browser are checked
                       against it (default: ../shared/sources beside the project, if present)
QUIZAPP_REDIS_URL      Redis shared by every worker process (sign-in throttling); without it the
                       throttling counts live in each process's memory (fine for the embedded demo)
QUIZAPP_JOBS           "rq" (default with Redis: `quizapp worker` runs jobs) or "thread" (default
                       without: jobs run in a background thread of the web process)
QUIZAPP_JOBS_QUEUE     RQ queue name (default "quizapp")
QUIZAPP_SOCKET_MODE    the live 决赛's Socket.IO server: "threading" (default: the page workers
                       and the tests) or "gevent" (set by `quizapp run`, the live process)
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""


DEFAULTS = {
    # No pool_pre_ping: quizapp.extensions.ping_when_idle tests only connections idle ≥ 10 s.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # a quiz may last longer than the default hour
    "PASSWORD_HASH_METHOD": "scrypt:32768:8:3",
    "LEADERBOARD_PAGE_SIZE": 100,
    "JSON_AS_ASCII": False,
    # Every request body (uploads included) is refused past this size before it is read; a
    # roster of 60,000 rows or a bank of 15,000 questions is well under it.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # Failed sign-ins (see quizapp.auth.throttle): per account and address, and per address.
    # The address limit is generous because a whole unit may sit behind one NAT address.
    "LOGIN_LIMIT_ACCOUNT": "5 per minute;20 per hour",
    "LOGIN_LIMIT_ADDRESS": "100 per 10 minutes",
    "RATELIMIT_HEADERS_ENABLED": False,
    # A save is a few hundred bytes; anything far larger is not an answer.
    "MAX_JSON_SAVE_BYTES": 16 * 1024,
}


def load_config(app, overrides: dict | None = None) -> None:
    """Fill `app.config` from DEFAULTS, the environment and `overrides` (tests), in that order."""
    app.config.update(DEFAULTS)
    env = os.environ
    instance = Path(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = env.get(
        "QUIZAPP_DATABASE_URL", f"sqlite:///{instance / 'quizapp.db'}"
    )
    if env.get("QUIZAPP_SECRET_KEY"):
        app.config["SECRET_KEY"] = env["QUIZAPP_SECRET_KEY"]
    if env.get("QUIZAPP_PASSWORD_HASH"):
        app.config["PASSWORD_HASH_METHOD"] = env["QUIZAPP_PASSWORD_HASH"]
    app.config["DEMO"] = env.get("QUIZAPP_DEMO") == "1"
    app.config["REDIS_URL"] = env.get("QUIZAPP_REDIS_URL", "")
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    # Background jobs (quizapp.services.jobs): RQ on that Redis, or a thread without it.
    app.config["JOBS_BACKEND"] = env.get("QUIZAPP_JOBS") or ("rq" if app.config["REDIS_URL"] else "thread")
    app.config["JOBS_QUEUE"] = env.get("QUIZAPP_JOBS_QUEUE") or "quizapp"
    app.config["JOBS_STALE_SECONDS"] = int(env.get("QUIZAPP_JOBS_STALE_SECONDS") or 300)
    app.config["PROXY_COUNT"] = int(env.get("QUIZAPP_PROXY_COUNT") or 0)
    app.config["SOCKET_MODE"] = "gevent" if env.get("QUIZAPP_SOCKET_MODE") == "gevent" else "threading"
    default_sources = Path(__file__).resolve().parents[2] / "shared" / "sources"
    app.config["SOURCES_DIR"] = env.get("QUIZAPP_SOURCES") or (str(default_sources) if default_sources.is_dir() else "")
    if overrides:
        app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        if app.config["DEMO"] or app.debug or app.config.get("TESTING"):
            app.config["SECRET_KEY"] = _instance_secret(instance)
        else:
            raise ConfigError("未设置 QUIZAPP_SECRET_KEY：生产环境必须提供足够长的随机密钥（演示请设 QUIZAPP_DEMO=1）")
    elif len(app.config["SECRET_KEY"]) < 16 and not app.config.get("TESTING"):
        raise ConfigError("QUIZAPP_SECRET_KEY 太短：至少 16 个字符的随机字符串")


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so demo sessions survive a restart."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
