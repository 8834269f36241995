"""quizapp: a self-hosted knowledge competition (党章党纪党规/监察法知识竞赛)."""
from __future__ import annotations

from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints — nothing else.
    (The `quizapp` commands live in quizapp.cli and load the app only when they need it.)

    `overrides` replaces configuration values after the environment is read (tests use it).
    Raises quizapp.config.ConfigError when the configuration is unsafe (e.g. no secret key).
    """
    from . import access, validation, views_support
    from .auth.routes import bp as auth_bp
    from .config import load_config
    from .extensions import csrf, db, limiter, login_manager, migrate, ping_when_idle, socketio
    from .final import bp as final_bp
    from .organizer import bp as organizer_bp
    from .liaison.routes import bp as liaison_bp
    from .participant.routes import bp as participant_bp
    from .participant.practice import bp as practice_bp
    from .sessions import SessionInterface

    app = Flask(__name__, instance_relative_config=True)
    app.session_interface = SessionInterface()
    load_config(app, overrides)
    validation.init_app(app)  # the bounded URL converters must exist before blueprints add rules
    db.init_app(app)
    with app.app_context():
        ping_when_idle(db.engine)  # instead of pool_pre_ping (see there)
    migrate.init_app(app, db, directory=str(views_support.MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    access.init_login(app, login_manager)
    app.register_blueprint(auth_bp)
    app.register_blueprint(participant_bp)
    app.register_blueprint(practice_bp)
    app.register_blueprint(organizer_bp, url_prefix="/admin")
    app.register_blueprint(liaison_bp, url_prefix="/unit")
    app.register_blueprint(final_bp)
    # One process without Redis (the demo); with QUIZAPP_REDIS_URL every process shares the rooms.
    # async_handlers=False: an event runs in its connection's own reader as soon as it is read,
    # not in a new thread started for it, so a press is timestamped without that delay.
    # SOCKET_MODE "gevent" only in `quizapp run`, which monkey-patches first (quizapp.final.serve).
    socketio.init_app(app, async_mode=app.config["SOCKET_MODE"], message_queue=app.config.get("REDIS_URL") or None,
                      channel=app.config.get("SOCKETIO_CHANNEL", "quizapp-final"), async_handlers=False)
    from .final.sockets import stamp_receipts
    stamp_receipts(socketio.server)  # presses timestamped as soon as they are read
    if app.config.get("PROXY_COUNT"):
        # Behind nginx: trust X-Forwarded-For/-Proto from that many proxies, so attempt logs
        # record the participant's address rather than the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    views_support.init_app(app)
    return app
