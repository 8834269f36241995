"""Flask extensions, created unbound and attached in `create_app`."""
import time

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

# Named constraints from the first migration on, so Alembic can alter them on SQLite too.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the sign-in is throttled (quizapp.auth.throttle), and only failures count.
limiter = Limiter(key_func=get_remote_address, key_prefix="quizapp")
# The live 决赛 (quizapp.final.sockets): threads, and Redis as message queue when configured.
socketio = SocketIO()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL lets readers run beside the writer; the busy timeout queues writers instead of
    failing them; SQLite enforces foreign keys only when asked."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# A pooled connection unused this long is tested before it is handed out (see ping_when_idle).
IDLE_PING_SECONDS = 10.0
_CHECKED_IN = "quizapp_checked_in"


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Instead of the pool's pre-ping (a round trip before every request: 9–14% of a worker's
    time at the 9:00 start), test a pooled connection only when it has been idle for
    `idle_seconds`: after a quiet night or a database restart every connection has, so the
    first request still gets a fresh connection instead of an error. A connection dropped
    while in use within the last `idle_seconds` fails that one request (503, the session is
    discarded and SQLAlchemy invalidates the pool's older connections); the pages' scripts
    retry their saves, and an answer is acknowledged only once committed."""
    def checked_in(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 — any failure: the pool replaces this connection
            raise DisconnectionError("an idle pooled connection failed its ping") from exc

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checkout)
