"""Shared pieces of the HTTP benchmarks: a fresh database, participants signed in ahead of
time (the lobby opens before the round), gunicorn servers, and latency statistics.

Everything runs on this machine: servers bind to 127.0.0.1 and every request goes there.
"""
from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER_AGENT = "quizapp-bench/1.0"
SECRET = "benchmark-secret-key-0123456789abcdef"
PG_ADMIN = os.environ.get("QUIZAPP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def database_url(kind: str) -> str:
    """A fresh, empty database of `kind` ("sqlite" or "postgres") for one run."""
    if kind == "sqlite":
        folder = Path(tempfile.gettempdir()) / "quizapp-bench"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return f"sqlite:///{folder / 'bench.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS quizapp_bench WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE quizapp_bench"))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/quizapp_bench"


@dataclass
class Participant:
    user_id: int
    cookie: str
    csrf: str
    attempt_id: int | None = None
    items: list = field(default_factory=list)  # (position, type, option count, blank count)
    acked: dict = field(default_factory=dict)  # position -> last acknowledged response


def seed(url: str, participants: int, sections: list[dict], time_limit: int = 60) -> tuple[int, list[Participant]]:
    """Schema, shipped banks, `participants` people in units of four, one open round; returns
    the round id and the signed-in participants (session cookie and CSRF token each)."""
    from flask import g, session
    from flask_login import login_user
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import insert, select

    from quizapp import create_app
    from quizapp.access import SESSION_VERSION_KEY
    from quizapp.clock import utcnow
    from quizapp.extensions import db
    from quizapp.models import Competition, Unit, User
    from quizapp.services.accounts import hash_password
    from quizapp.services.banks import import_banks
    from quizapp.services.rounds import RoundSpec, create_round, open_round

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        import_banks([ROOT / "question_banks"])
        units = [{"name": f"单位{i:04d}", "group_name": "乡镇" if i % 3 else "县直部门"} for i in range(max(1, participants // 4))]
        db.session.execute(insert(Unit), units)
        unit_ids = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
        hashed = hash_password("bench-password-1")  # the production (OWASP) hash, computed once
        db.session.execute(insert(User), [
            {"username": f"B{i:06d}", "name": f"参赛{i}", "role": "participant", "unit_id": unit_ids[i // 4 % len(unit_ids)],
             "password_hash": hashed, "active": True, "created_at": utcnow()} for i in range(participants)])
        competition = Competition(name="基准测试")
        db.session.add(competition)
        db.session.commit()
        now = utcnow()
        round_ = create_round(RoundSpec(competition_id=competition.id, stage="初赛", name="基准轮次",
                                        opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=3),
                                        time_limit_minutes=time_limit, sections=sections, show_score="on_submit"))
        open_round(round_)
        people = []
        serializer = app.session_interface.get_signing_serializer(app)
        for user in db.session.scalars(select(User).where(User.role == "participant").order_by(User.id)):
            with app.test_request_context(headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                g.pop("csrf_token", None)  # Flask-WTF caches the token on g, which outlives this request
                login_user(user)
                session[SESSION_VERSION_KEY] = user.session_version  # as a real sign-in does (quizapp.access)
                token = generate_csrf()
                people.append(Participant(user.id, serializer.dumps(dict(session)), token))
        return round_.id, people


def answers(base: str, seconds: float) -> bool:
    """Whether a server at `base` gives any HTTP answer within `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.2)
    return False


class Server:
    """A gunicorn server with the repository's config, on a free local port."""

    def __init__(self, app_spec: str, url: str, port: int, workers: int = 4):
        env = {**os.environ, "QUIZAPP_DATABASE_URL": url, "QUIZAPP_SECRET_KEY": SECRET,
               "QUIZAPP_BIND": f"127.0.0.1:{port}", "QUIZAPP_WORKERS": str(workers), "QUIZAPP_LOG_LEVEL": "warning"}
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app_spec],
            cwd=ROOT, env=env, start_new_session=True)
        if not answers(self.base, 30):
            self.stop()
            raise RuntimeError(f"{app_spec} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_timeout 75s;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


class Proxy:
    """nginx in front of a server, as in the deployment guide (docs/deploy.md): it holds the
    participants' idle keep-alive connections and hands gunicorn's sync workers only complete
    requests. Without it, a sync worker that accepts a connection whose phone is still
    "thinking" waits on it. Debian's package `nginx`; bound to 127.0.0.1."""

    def __init__(self, upstream_port: int, port: int):
        self.dir = Path(tempfile.mkdtemp(prefix="quizapp-nginx-"))
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=self.dir, port=port, upstream=upstream_port), encoding="utf-8")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        if not answers(self.base, 10):
            self.stop()
            raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def summary(latencies: list[float], errors: int, seconds: float) -> dict:
    """Requests/s, p50/p95/p99 (ms) and errors of one phase."""
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0.0
    return {"requests": len(latencies), "errors": errors, "seconds": round(seconds, 2),
            "rps": round(len(latencies) / seconds, 1) if seconds else 0.0,
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0}
