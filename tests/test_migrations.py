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
