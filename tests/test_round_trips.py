"""Round trips of the 9:00 start and the last-minute rush (issue 13), and the pool's ping.

开始 reads the session's person, the round and the prepared paper in one query and, on
PostgreSQL, writes the attempt in one more on an autocommit connection; 交卷 loads the
attempt with the session's checks in one query and writes the score in one statement on
PostgreSQL. A pooled connection is pinged only after it has been idle (no pre-ping per
request), and a dead idle one is replaced rather than failing the request.
"""
from __future__ import annotations

import re
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from quizapp import extensions
from quizapp.extensions import db
from quizapp.models import Attempt, AttemptEvent, PreparedPaper, User
from quizapp.services import people as people_service

from .conftest import csrf_from, login
from .test_participant_routes import paper, save, start


@pytest.fixture
def round_id(app, build, clock):
    build.bank()
    build.participant("p1", name="参赛甲")
    return build.round()


@contextmanager
def statements(app):
    """The SQL statements the app's engine runs inside the block (pings and BEGIN/COMMIT are
    not statements), and for each whether its DBAPI connection was in autocommit (psycopg
    then sends no BEGIN, and its commit() sends nothing)."""
    seen = {"sql": [], "autocommit": []}
    with app.app_context():
        engine = db.engine

    def before(conn, _cursor, sql, *_args):
        seen["sql"].append(sql)
        seen["autocommit"].append(getattr(conn.connection.dbapi_connection, "autocommit", None))
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def postgres(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_start_is_one_read_and_one_write_on_postgresql(app, client, round_id):
    """The person (with the session's checks), the round, the paper and any attempt in one
    query, then the attempt in one statement: 2 statements on PostgreSQL in autocommit (no
    transaction to commit), 5 elsewhere (the writes statement by statement)."""
    login(client, "p1")
    lobby = client.get("/lobby").get_data(as_text=True)
    with statements(app) as seen:
        response = client.post(f"/rounds/{round_id}/start", data={"csrf_token": csrf_from(lobby)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "参赛甲" in html  # the page's header: the user loaded by that one query, not loaded again
    if postgres(app):
        assert len(seen["sql"]) == 2 and seen["autocommit"] == [True, True], seen["sql"]
    else:
        assert len(seen["sql"]) == 5, seen["sql"]
    attempt_id = int(re.search(r'data-page-url="/attempts/(\d+)"', html).group(1))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        prepared = db.session.scalar(select(PreparedPaper).filter_by(round_id=round_id, user_id=attempt.user_id))
        assert [[i.question_id, i.option_order] for i in attempt.items] == prepared.items
        assert [e.kind for e in db.session.scalars(select(AttemptEvent).filter_by(attempt_id=attempt_id))] == ["start"]
    assert save(client, attempt_id, csrf_from(html), 1, "A").status_code == 200
    assert len(paper(html)) == len(prepared.items)


@pytest.mark.parametrize("action", ["disable", "reset", "sign_out"])
def test_start_refuses_an_ended_session(app, client, round_id, action):
    """The one query is the loader's checks: a disabled person, a reset password or a
    sign-out elsewhere sends 开始 to the sign-in page and starts nothing."""
    login(client, "p1")
    lobby = client.get("/lobby").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="p1"))
        if action == "disable":
            people_service.set_active(user, False, "测试停用")
        elif action == "reset":
            people_service.reset_password(user)
        else:
            user.session_version += 1
            db.session.commit()
    response = client.post(f"/rounds/{round_id}/start", data={"csrf_token": csrf_from(lobby)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 0


def test_start_of_a_missing_round_is_404_and_an_organizer_403(app, client, build, round_id):
    login(client, "p1")
    lobby = client.get("/lobby").get_data(as_text=True)
    assert client.post(f"/rounds/{round_id + 99}/start", data={"csrf_token": csrf_from(lobby)}).status_code == 404
    build.admin("boss")
    organizer = app.test_client()
    login(organizer, "boss")
    token = csrf_from(organizer.get("/admin/").get_data(as_text=True))
    assert organizer.post(f"/rounds/{round_id}/start", data={"csrf_token": token}).status_code == 403


def test_submit_is_four_statements_on_postgresql(app, client, round_id):
    """交卷: the attempt with its round and the session's checks, the claim, the items, and
    the item points with the score in one statement (PostgreSQL; 5 elsewhere)."""
    login(client, "p1")
    attempt_id, token = start(client, round_id)
    assert save(client, attempt_id, token, 1, "A").status_code == 200
    with statements(app) as seen:
        response = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/result")
    assert len(seen["sql"]) == (4 if postgres(app) else 5), seen["sql"]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "submitted" and attempt.score is not None
        assert attempt.score == sum(i.points for i in attempt.items)


class _Record:
    def __init__(self):
        self.info = {}


def test_a_pooled_connection_is_pinged_only_after_being_idle(app, monkeypatch):
    """No ping when the connection was just checked in; a ping after IDLE_PING_SECONDS; a
    failed ping makes the pool replace the connection (DisconnectionError)."""
    with app.app_context():
        engine = db.engine
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(dbapi_connection))
    listeners = {fn.__name__: fn for fn in engine.pool.dispatch.checkout} | {
        fn.__name__: fn for fn in engine.pool.dispatch.checkin}
    record, connection = _Record(), object()
    listeners["checkout"](connection, record, None)  # a new connection: no ping
    listeners["checked_in"](connection, record)
    listeners["checkout"](connection, record, None)  # just used: no ping
    assert pings == []
    record.info[extensions._CHECKED_IN] = time.monotonic() - extensions.IDLE_PING_SECONDS - 1
    listeners["checkout"](connection, record, None)
    assert pings == [connection]

    def dead(_connection):
        raise OSError("server closed the connection")
    monkeypatch.setattr(engine.dialect, "do_ping", dead)
    with pytest.raises(extensions.DisconnectionError):
        listeners["checkout"](connection, record, None)
    assert not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping")


def test_an_idle_connection_the_server_closed_is_replaced(app, client, round_id):
    """PostgreSQL: the server ends the pool's idle connections (a restart, a firewall's idle
    timeout); the next request gets a fresh connection and its page, not a 503."""
    if not postgres(app):
        pytest.skip("needs PostgreSQL (pg_terminate_backend)")
    login(client, "p1")
    assert client.get("/lobby").status_code == 200
    with app.app_context():
        engine = db.engine
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    for record in list(engine.pool._pool.queue):  # as if idle for longer than the ping's threshold
        record.info[extensions._CHECKED_IN] -= extensions.IDLE_PING_SECONDS + 1
    assert client.get("/lobby").status_code == 200
