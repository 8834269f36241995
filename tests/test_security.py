"""Configuration and response-level security."""
import pytest

from quizapp import create_app
from quizapp.config import ConfigError

from .conftest import login


def test_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("QUIZAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("QUIZAPP_DEMO", raising=False)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="QUIZAPP_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("QUIZAPP_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="太短"):
        create_app()
    monkeypatch.setenv("QUIZAPP_SECRET_KEY", "a-long-enough-random-secret-value")
    assert create_app().config["SECRET_KEY"] == "a-long-enough-random-secret-value"


def test_demo_mode_keeps_a_generated_key(monkeypatch, tmp_path):
    monkeypatch.delenv("QUIZAPP_SECRET_KEY", raising=False)
    monkeypatch.setenv("QUIZAPP_DEMO", "1")
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32


def test_session_cookie_flags_and_headers(client, build):
    build.participant("p1")
    response = login(client, "p1")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/lobby")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"


def test_passwords_are_hashed_with_the_configured_method(app, ctx):
    from quizapp.services.accounts import hash_password

    assert hash_password("secret-1").startswith("pbkdf2:sha256:1000$")
    from quizapp.config import DEFAULTS
    assert DEFAULTS["PASSWORD_HASH_METHOD"] == "scrypt:32768:8:3"  # an OWASP scrypt setting


def test_pages_use_no_other_host(client):
    html = client.get("/login").get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
