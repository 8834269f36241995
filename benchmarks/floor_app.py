"""The floor: the least a Flask answer-saving endpoint can do on the same stack.

One route, POST /save: Flask-Login loads the signed-in user from the session (one query),
then one answer row is upserted and committed. Same Flask, Flask-SQLAlchemy, Flask-Login,
same database, same gunicorn settings as quizapp — so quizapp's autosave throughput divided by
this one says how much of the cost is quizapp's own.

    gunicorn -c gunicorn.conf.py 'benchmarks.floor_app:create_app()'
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from flask_login import LoginManager, UserMixin, current_user, login_required
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import quizapp.extensions  # noqa: F401  (the same SQLite pragmas: WAL, busy timeout)


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()


class FloorUser(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


class FloorAnswer(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(String(200))


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(FloorUser, int(user_id))


def create_app(url: str | None = None, secret: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret or os.environ["QUIZAPP_SECRET_KEY"]
    app.config["SQLALCHEMY_DATABASE_URI"] = url or os.environ["QUIZAPP_DATABASE_URL"]
    db.init_app(app)
    login_manager.init_app(app)

    @app.post("/save")
    @login_required
    def save():
        payload = request.get_json(silent=True) or {}
        table = FloorAnswer.__table__
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table).values(user_id=current_user.id, position=int(payload.get("position", 1)),
                                         response=str(payload.get("response", ""))[:200])
        db.session.execute(statement.on_conflict_do_update(index_elements=["user_id", "position"],
                                                           set_={"response": statement.excluded.response}))
        db.session.commit()
        return jsonify(ok=True)

    return app
