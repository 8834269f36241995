"""Fixtures: the app on a migrated database (SQLite by default, PostgreSQL when
QUIZAPP_TEST_DATABASE_URL is set), a test client, a controllable clock, and builders.

Each test starts from empty tables. No test holds an application context while it uses the
client, so every request gets its own database session, as in production.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from quizapp import create_app
from quizapp.extensions import db, limiter

DATA = Path(__file__).parent / "data"
SAMPLE_BANK = DATA / "banks" / "sample.yaml"
SOURCES = Path(os.environ.get("QUIZAPP_SOURCES") or Path(__file__).resolve().parents[2] / "shared" / "sources").resolve()
PASSWORD = "pw-123456"
START = datetime(2026, 5, 8, 1, 0, 0)  # 09:00 北京时间


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **kwargs) -> None:
        self.moment += timedelta(**kwargs)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("QUIZAPP_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # start from an empty schema every run
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
    })
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    app.config["CLOCK"] = None
    from quizapp.services.jobs import join_threads

    join_threads()  # a job a route started in a thread (a round's 体检) must not write into the next test
    with app.app_context():
        limiter.reset()  # sign-in throttling counts from one test must not refuse the next one's
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def clock(app):
    fake = FakeClock(START)
    app.config["CLOCK"] = fake
    return fake


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"|data-csrf="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return next(group for group in match.groups() if group)


class Builder:
    """Creates test data in its own application context and returns plain ids."""

    def __init__(self, app):
        self.app = app

    def bank(self, path=SAMPLE_BANK) -> None:
        from quizapp.services.banks import import_banks

        with self.app.app_context():
            import_banks([path])

    def unit(self, name: str) -> int:
        from quizapp.models import Unit

        with self.app.app_context():
            unit = db.session.scalar(db.select(Unit).filter_by(name=name))
            if unit is None:
                unit = Unit(name=name)
                db.session.add(unit)
                db.session.commit()
            return unit.id

    def participant(self, username: str, unit: str = "县纪委监委机关", name: str = "张三") -> int:
        return self._user(username, name, "participant", self.unit(unit))

    def admin(self, username: str = "admin") -> int:
        return self._user(username, "管理员", "admin", None)

    def _user(self, username, name, role, unit_id) -> int:
        from quizapp.models import User
        from quizapp.services.accounts import hash_password

        with self.app.app_context():
            user = User(username=username, name=name, role=role, unit_id=unit_id, password_hash=hash_password(PASSWORD))
            db.session.add(user)
            db.session.commit()
            return user.id

    def round(self, open_: bool = True, **overrides) -> int:
        from quizapp.models import Competition
        from quizapp.services.rounds import RoundSpec, create_round, open_round

        with self.app.app_context():
            competition = Competition(name="测试竞赛")
            db.session.add(competition)
            db.session.commit()
            values = dict(
                competition_id=competition.id, stage="初赛", name="初赛", opens_at=START,
                closes_at=START + timedelta(hours=2), time_limit_minutes=30,
                sections=[{"type": "single", "count": 2}, {"type": "multiple", "count": 2},
                          {"type": "judge", "count": 2}, {"type": "fill", "count": 1}],
            )
            values.update(overrides)
            round_ = create_round(RoundSpec(**values))
            if open_:
                open_round(round_)
            return round_.id


@pytest.fixture
def build(app):
    return Builder(app)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
