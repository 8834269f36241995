"""No 5xx on malformed input, for every route, as every role (issue 9 item 7).

The table of requests is built from `app.url_map`, so a route added later is covered without
editing this file: every integer in a path set to values outside the database's int4 range,
every route called with junk query parameters, every POST route with a valid CSRF token and
junk form and JSON bodies — signed out and signed in as organizer, liaison and participant.
"""
from __future__ import annotations

import json
import re

import pytest
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from quizapp.extensions import db

from .conftest import PASSWORD, csrf_from, login

BAD_INTS = ["0", "-1", str(2**31), str(10**20), "1" * 5000, "007"]
BAD_STRINGS = ["%00", "x" * 300, "..%2F..%2Fetc", "%E4%B8%AD%00"]
# Every query parameter a view reads today, and some it may read tomorrow.
JUNK_QUERIES = [
    "unit=abc&page=99999999999999999999&difficulty=abc&round=x&q=%00&group=%00&by=zz&format=zz"
    "&action=%00&type=zz&state=zz&role=zz&bank=%00&topic=%00&next=//evil.example&id=abc&user=abc&competition=abc"
    "&_scheme=javascript&_anchor=%00&_method=x",
    "unit=99999999999999999999&page=-5&difficulty=99999999999&q=%27%20OR%201=1--&group=" + "x" * 3000
    + "&round=-1&user=0&id=2147483648&limit=-1&offset=99999999999999999999&k=abc",
    "unit=1%00&page=1.5&difficulty=%EF%BC%91&q=" + "%E4%B8%AD" * 2000 + "&unit=2&page=abc",
]
JUNK_VALUES = ["99999999999999999999", "abc\x00", "-1", "x" * 5000, "２", "2147483648", "1e9", ""]
JSON_BODIES = [
    {"position": 2**31, "response": [["A"]]},
    {"position": 10**20, "response": {"A": True}},
    {"position": -1, "response": "x" * 20000, "flagged": "yes"},
    {"position": 1, "response": [["A"], {"B": 1}]},
    {"position": 1, "response": "\x00"},
    {"position": 1, "response": [1, None, 2.5, True]},
    {"position": 1.5, "response": 10**30},
    {"position": "1", "response": None},
    [1, 2, 3],
    "a string",
    None,
]


def _form_fields() -> set[str]:
    """Every field name of every form of the app (with the prefixes the views use)."""
    from flask_wtf import FlaskForm

    from quizapp.auth import forms as auth_forms  # noqa: F401  (imported for its subclasses)
    from quizapp.organizer import forms as organizer_forms  # noqa: F401

    names = {"csrf_token", "unit_id", "group", "reason", "name", "create_units", "position", "response"}
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        fields = {key for key in dir(form) if hasattr(getattr(form, key), "field_class")}
        names |= fields | {f"{prefix}-{field}" for field in fields for prefix in ("reopen", "invalid")}
    return names


class Session:
    """A signed-in (or signed-out) client and the CSRF token its pages carry."""

    def __init__(self, app, role: str, username: str | None, home: str):
        self.role = role
        self.client = app.test_client()
        if username:
            login(self.client, username, PASSWORD)
        page = self.client.get(home)
        assert page.status_code == 200, (role, page.status_code)
        self.csrf = csrf_from(page.get_data(as_text=True))
        self.home = home


@pytest.fixture
def scene(app, build, clock):
    """One object of every kind, so valid ids reach the views behind the converters."""
    from quizapp.models import Competition, Question, Round, Unit, User
    from quizapp.services import people
    from quizapp.services.attempts import start_attempt

    build.bank()
    build.admin("admin")
    build.participant("p1", unit="县委办公室")
    victim = build.participant("p2", unit="县委办公室")
    round_id = build.round()
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).filter_by(name="县委办公室"))
        build._user("l1", "联络员", "liaison", unit.id)
        attempt = start_attempt(db.session.get(Round, round_id), db.session.scalar(db.select(User).filter_by(username="p1")))
        ids = {
            "round_id": round_id, "attempt_id": attempt.id, "user_id": victim,
            "competition_id": db.session.scalar(db.select(Competition.id)),
            "question_id": db.session.scalar(db.select(Question.id)),
            "correction_id": 1,
        }
        people.set_unit_group(unit, "县直部门")
    sessions = [Session(app, "anonymous", None, "/login"), Session(app, "admin", "admin", "/admin/"),
                Session(app, "liaison", "l1", "/unit/"), Session(app, "participant", "p1", "/lobby")]
    return ids, sessions


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)


def _path(rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule.rule)


def _valid_args(rule, ids) -> list[dict[str, str]]:
    """Every combination of real ids and each `any(...)` choice of the rule."""
    combos = [{}]
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            choices = sorted(converter.items) if hasattr(converter, "items") else re.findall(r"\w+", converter.regex)
        elif isinstance(converter, IntegerConverter):
            choices = [str(ids.get(name, 1))]
        else:
            choices = ["abc"]
        combos = [{**combo, name: choice} for combo in combos for choice in choices]
    return combos


def _bad_args(rule) -> list[dict[str, str]]:
    """The rule's arguments with one of them malformed at a time (the others valid-looking)."""
    base = {name: "1" for name in rule.arguments}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            base[name] = sorted(converter.items)[0]
    out = []
    for name, converter in rule._converters.items():
        bad = BAD_INTS if isinstance(converter, IntegerConverter) else BAD_STRINGS
        out += [{**base, name: value} for value in bad]
    return out


def _send(session, method, url, failures, **kwargs):
    try:
        response = session.client.open(url, method=method, **kwargs)
    except Exception as exc:  # TESTING propagates what would have been a 500
        failures.append(f"{session.role} {method} {url[:120]} → {type(exc).__name__}: {str(exc)[:200]}")
        return None
    if response.status_code >= 500:
        failures.append(f"{session.role} {method} {url[:120]} → {response.status_code}")
    return response


def _junk_forms(csrf: str) -> list[dict]:
    fields = _form_fields()
    return [{**{field: value for field in fields}, "csrf_token": csrf} for value in JUNK_VALUES]


def _is_save(rule) -> bool:
    return rule.endpoint == "participant.save_answer"


def test_no_route_answers_5xx_to_malformed_requests(app, scene):
    ids, sessions = scene
    rules = _rules(app)
    failures: list[str] = []
    for session in sessions:
        headers = {"X-CSRFToken": session.csrf}
        # Malformed path arguments, every method the rule takes.
        for rule in rules:
            for args in _bad_args(rule):
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    data = {"csrf_token": session.csrf} if method == "POST" else None
                    _send(session, method, _path(rule, args), failures, data=data)
        # Junk query parameters on real objects.
        for rule in rules:
            if "GET" not in rule.methods:
                continue
            for args in _valid_args(rule, ids):
                for query in JUNK_QUERIES:
                    _send(session, "GET", f"{_path(rule, args)}?{query}", failures)
                    _send(session, "GET", f"{_path(rule, args)}?{query}", failures,
                          headers={"Accept": "application/json"})
        # Junk bodies. Sign-out last, so the session stays signed in for the rest.
        posts = [r for r in rules if "POST" in r.methods and r.endpoint != "auth.logout" and not _is_save(r)]
        for rule in posts + [r for r in rules if r.endpoint == "auth.logout"]:
            for args in _valid_args(rule, ids):
                url = _path(rule, args)
                for form in _junk_forms(session.csrf):
                    _send(session, "POST", f"{url}?{JUNK_QUERIES[0]}", failures, data=form)
                for body in JSON_BODIES:
                    _send(session, "POST", url, failures, data=json.dumps(body), headers=headers,
                          content_type="application/json")
            if rule.endpoint != "auth.logout":
                assert session.client.get(session.home).status_code == 200, (session.role, "signed out by", rule.rule)
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n".join(failures[:60])


def test_answer_saves_with_malformed_payloads_never_5xx(app, scene):
    """The save endpoint's own payload checks (its module belongs to the quiz's owner): nested
    lists or objects as answers, positions outside int4, wrong types."""
    ids, sessions = scene
    participant = sessions[-1]
    headers = {"X-CSRFToken": participant.csrf}
    url = f"/attempts/{ids['attempt_id']}/answers"
    failures: list[str] = []
    for body in JSON_BODIES:
        _send(participant, "POST", url, failures, data=json.dumps(body), headers=headers,
              content_type="application/json")
    for form in _junk_forms(participant.csrf):
        _send(participant, "POST", url, failures, data=form)
    assert not failures, "\n".join(failures)


def _app_forms():
    from flask_wtf import FlaskForm

    import quizapp.auth.forms  # noqa: F401  (the forms register as subclasses on import)
    import quizapp.organizer  # noqa: F401

    found, pending = [], list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        if form.__module__.startswith("quizapp.") and form.__module__ != "quizapp.validation":
            found.append(form)
    return sorted(found, key=lambda f: f"{f.__module__}.{f.__name__}")


def test_every_form_speaks_chinese(app):
    """Every form derives from AppForm, and every message a junk submission produces — WTForms'
    built-in ones included — is Chinese (「姓名：Field cannot be longer than 64 characters.」 was not)."""
    from werkzeug.datastructures import MultiDict

    from quizapp.validation import AppForm

    forms = _app_forms()
    assert len(forms) >= 10
    assert [f"{f.__module__}.{f.__name__}" for f in forms if not issubclass(f, AppForm)] == []
    english = re.compile(r"\b(?!CSV\b|XLSX\b|YAML\b|CSRF\b|yaml\b|yml\b|csv\b|xlsx\b)[A-Za-z]{3,}\b")
    seen = 0
    for junk in ("x" * 30000, "abc", "-99999999999999999999", ""):
        with app.test_request_context("/", method="POST"):
            for form_class in forms:
                fields = [k for k in dir(form_class) if hasattr(getattr(form_class, k), "field_class")]
                form = form_class(formdata=MultiDict({k: junk for k in fields}), meta={"csrf": False})
                for field in form:
                    if getattr(field, "choices", ()) is None or field.type == "SelectField" and not field.choices:
                        field.choices = [(1, "一")] if getattr(field, "coerce", str) is int else [("1", "一")]
                form.validate()
                for name, messages in form.errors.items():
                    for message in messages:
                        seen += 1
                        assert not english.search(message), f"{form_class.__name__}.{name}: {message}"
                        assert re.search(r"[\u4e00-\u9fff]", message), f"{form_class.__name__}.{name}: {message}"
    assert seen > 40  # the junk did reach the validators
