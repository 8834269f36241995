"""Accounts: password hashing, organizers, and writing participant rosters.

Two kinds of password hash (see README, "How initial credentials are protected"):
- a password a person or organizer chooses is hashed with scrypt (config PASSWORD_HASH_METHOD);
- a password the app generates for a roster (printed on the admission slip) is stored as
  "initial$" + HMAC-SHA256 under a key derived from SECRET_KEY. The same password is also kept
  Fernet-encrypted under that key for printing, so a slow hash would protect nothing that the
  key does not already protect; the fast one lets 400 people import in a request.
`verify_password` costs one scrypt whatever the case, so timing tells nothing.

Rosters are read and validated by quizapp.services.rosters (re-exported here); `import_roster`
writes a validated one in one transaction, in bulk. Generated passwords are returned once.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Unit, User
from ..spreadsheet import write_csv
from . import ServiceError, audit
from .rosters import NumberRule, RosterFileError, RosterReport, RosterRow, read_roster  # noqa: F401 (re-exported)

PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off a printed slip
INITIAL_PREFIX = "initial$"
INSERT_CHUNK = 1000
_dummy_hashes: dict[str, str] = {}


def _secrets() -> list[str]:
    """The current key first, then any SECRET_KEY_FALLBACKS (a key rotation in progress)."""
    return [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]


def _fernet_for(secret: str) -> Fernet:
    digest = hashlib.sha256(("initial-password:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    return MultiFernet([_fernet_for(secret) for secret in _secrets()])


def seal_initial(password: str) -> str:
    """Encrypt a generated password for printing on admission slips (never for logging in)."""
    return _fernet_for(current_app.config["SECRET_KEY"]).encrypt(password.encode()).decode()


def unseal_initial(sealed: str | None) -> str:
    """The printable initial password, or "" if none is kept or the key has changed since."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""


def _initial_key(secret: str) -> bytes:
    # A key of its own (not the Fernet key, not SECRET_KEY itself): one leaked use of a key
    # then says nothing about the others.
    return hashlib.sha256(("initial-password-hmac:" + secret).encode()).digest()


def initial_hash(username: str, password: str, secret: str | None = None) -> str:
    """The stored hash of a generated password. Bound to the admission number, so one hash
    cannot be copied onto another account; a changed SECRET_KEY (without the old one in
    SECRET_KEY_FALLBACKS) makes such passwords stop working."""
    key = _initial_key(secret or current_app.config["SECRET_KEY"])
    return INITIAL_PREFIX + hmac.new(key, f"{username}:{password}".encode(), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    """A chosen password: scrypt (or whatever PASSWORD_HASH_METHOD names)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def verify_password(user: User | None, password: str) -> bool:
    """True if `password` is the user's. Exactly one hash with the configured method is computed
    in every case — unknown user, wrong password, initial (HMAC) password, chosen password — so
    the time taken does not tell an attacker which case it was."""
    stored = user.password_hash if user is not None else ""
    if stored and not stored.startswith(INITIAL_PREFIX):
        return check_password_hash(stored, password)
    check_password_hash(_dummy_hash(), password)  # the cost a chosen password would have had
    if not stored:
        return False
    return any(hmac.compare_digest(stored, initial_hash(user.username, password, secret)) for secret in _secrets())


_UNBIASED = 256 - 256 % len(PASSWORD_ALPHABET)  # bytes below this map evenly onto the alphabet


def new_password(length: int = 8) -> str:
    """`length` letters drawn uniformly from PASSWORD_ALPHABET by the OS's CSPRNG. One
    token_bytes call per password (rejecting the few bytes that would bias the draw) instead
    of a secrets.choice per letter: 48,000 passwords cost 0.2 s rather than 3 s."""
    letters: list[str] = []
    while len(letters) < length:
        letters.extend(PASSWORD_ALPHABET[b % len(PASSWORD_ALPHABET)] for b in secrets.token_bytes(2 * length)
                       if b < _UNBIASED)
    return "".join(letters[:length])


def issue_initial_password(user: User) -> str:
    """Give `user` a new generated password (fast hash, sealed for slips); no commit."""
    password = new_password()
    user.password_hash = initial_hash(user.username, password)
    user.initial_password_enc = seal_initial(password)
    return password


def create_admin(username: str, name: str, password: str) -> User:
    if len(password) < 8:
        raise ServiceError("管理员密码至少 8 位")
    if db.session.scalar(select(User).filter_by(username=username)):
        raise ServiceError(f"用户名 {username} 已存在")
    user = User(username=username, name=name, role="admin", password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def import_roster(report: RosterReport, progress=None, commit: bool = True) -> list[tuple[RosterRow, str]]:
    """Write a validated roster in one transaction; returns (row, initial password) pairs.
    People are inserted in bulk (INSERT_CHUNK rows a statement) with the fast initial hash, so
    the cost per person is a few microseconds. `progress`, if given, is called with (people
    prepared so far, total) while passwords are made — before anything is written, so a
    progress record can still be committed elsewhere (SQLite has one writer). With `commit`
    False the caller commits (a background job commits the roster with its own state). A
    准考证号 taken meanwhile by someone else rolls everything back."""
    if report.errors:
        raise ServiceError("名单有错误，未导入任何人员")
    issued: list[tuple[RosterRow, str]] = []
    secret = current_app.config["SECRET_KEY"]
    fernet = _fernet_for(secret)
    total = len(report.rows)
    rows = []
    for count, row in enumerate(report.rows, start=1):
        password = new_password()
        rows.append(dict(username=row.username, name=row.name, role="participant", unit_id=row.unit,
                         phone=row.phone or None, branch=row.branch or None,
                         password_hash=initial_hash(row.username, password, secret),
                         initial_password_enc=fernet.encrypt(password.encode()).decode()))
        issued.append((row, password))
        if progress and (count % INSERT_CHUNK == 0 or count == total):
            progress(count, total)
    try:
        units = _units_for(report)  # the first write: from here on the transaction holds the lock
        for values in rows:
            values["unit_id"] = units[values["unit_id"]]
        for start in range(0, len(rows), INSERT_CHUNK):
            db.session.execute(insert(User), rows[start:start + INSERT_CHUNK])
        audit.record("roster.import", f"{len(issued)} 人", f"导入 {len(issued)} 人，新建单位 {len(report.new_units)} 个",
                     new_units=report.new_units)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("导入时发现准考证号或单位已被占用（可能有人同时导入），未导入任何人员，请重新上传检查") from None
    except Exception:
        db.session.rollback()
        raise
    return issued


def _units_for(report: RosterReport) -> dict[str, int]:
    """Unit name → id, creating the report's new units; a roster's 分组 column also fills in
    the group of existing units that have none."""
    units = {u.name: u for u in db.session.scalars(select(Unit))}
    groups = {row.unit: row.group for row in report.rows if row.group}
    for name in report.new_units:
        units[name] = Unit(name=name, group_name=groups.get(name) or None)
        db.session.add(units[name])
    for name, group in groups.items():
        if units[name].group_name is None:
            units[name].group_name = group
    db.session.flush()
    return {name: unit.id for name, unit in units.items()}


def write_passwords(issued: list[tuple[RosterRow, str]], path: str | Path) -> None:
    # quizapp.spreadsheet writes names as text, never as a formula (CSV injection).
    write_csv(path, ["姓名", "单位", "准考证号", "初始密码"], ([row.name, row.unit, row.username, password]
                                                         for row, password in issued))
