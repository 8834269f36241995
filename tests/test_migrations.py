"""The schema comes from the migrations, and they must agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from quizapp.extensions import db


def test_models_and_migrations_agree(app, ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models differ from migrations; run `quizapp db migrate`: {differences}"


def test_database_is_at_the_latest_revision(app, ctx):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate  # noqa: F401  (the extension configured the directory)

    config = app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_upgrade_keeps_existing_rows(tmp_path):
    """Each migration runs on a database that already holds a competition (SQLite rebuilds
    tables for some changes; foreign keys must not break that, and rows must survive)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from quizapp import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 20,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        upgrade(revision="0001")
        statements = [
            "INSERT INTO unit (id, name, created_at) VALUES (1, '县财政局', '2026-01-01')",
            "INSERT INTO user (id, username, name, role, unit_id, password_hash, active, created_at)"
            " VALUES (1, 'p1', '张三', 'participant', 1, 'x', 1, '2026-01-01')",
            "INSERT INTO bank (id, slug, title, file_name, imported_at) VALUES (1, 'b', 'B', 'b.yaml', '2026-01-01')",
            "INSERT INTO question (id, bank_id, qid, version, is_current, content_hash, type, topic, difficulty, stem,"
            " options, answer, explanation, source_doc, source_article, source_basis, created_at) VALUES (1, 1, 'q',"
            " 1, 1, 'h', 'judge', 't', 1, 's', '[]', 'true', 'e', 'd', '1', 'b', '2026-01-01')",
            "INSERT INTO competition (id, name, created_at) VALUES (1, 'C', '2026-01-01')",
            "INSERT INTO round (id, competition_id, seq, stage, name, status, opens_at, closes_at, time_limit_minutes,"
            " rules, points, multiple_rule, partial_fraction, draw_mode, seed, show_score, unit_method, created_at)"
            " VALUES (1, 1, 1, '初赛', 'R', 'closed', '2026-01-01', '2026-01-02', 30, '[]', '{}', 'partial', 0.5,"
            " 'random', 's', 'on_submit', 'mean', '2026-01-01')",
            "INSERT INTO attempt (id, round_id, user_id, status, started_at, deadline_at, score, max_score)"
            " VALUES (1, 1, 1, 'submitted', '2026-01-01', '2026-01-01', 1, 1)",
            "INSERT INTO attempt_item (id, attempt_id, position, question_id, option_order, response, flagged)"
            " VALUES (1, 1, 1, 1, '[]', 'true', 0)",
        ]
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT count(*) FROM attempt_item")).scalar() == 1
        assert db.session.execute(text("SELECT avoid_seen, restricted FROM round")).one() == (1, 0)
        assert db.session.execute(text("SELECT team_id, score FROM attempt")).one() == (None, 1)
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
