"""Settings the organizer keeps in the database (table `app_setting`).

`participant_url` is the address participants open to sign in, printed (and as a QR code) on
admission slips. It is set by the organizer, never taken from the organizer's own browser:
the organizer often works on the server itself (http://127.0.0.1:…/), which no phone can open.
Until it is set, slips carry the address of the deployment guide's nginx site (docs/deploy.md)
and the slips page says that it has not been set.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..extensions import db
from ..models import AppSetting
from . import ServiceError, audit

PARTICIPANT_URL = "participant_url"
DEFAULT_PARTICIPANT_URL = "http://quiz.example.gov.cn/"  # server_name of docs/deploy.md's nginx site
URL_MAX = 200
HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")  # urlsplit lowers it


def get(key: str) -> str | None:
    setting = db.session.get(AppSetting, key)
    return setting.value if setting else None


def participant_url() -> str:
    return get(PARTICIPANT_URL) or DEFAULT_PARTICIPANT_URL


def participant_url_is_set() -> bool:
    return bool(get(PARTICIPANT_URL))


def clean_url(text: str) -> str:
    """An http(s) address with a host, as typed (a bare host gets http://). Raises ServiceError."""
    value = (text or "").strip()
    if not value:
        raise ServiceError("请填写参赛人员登录地址")
    if len(value) > URL_MAX:
        raise ServiceError(f"登录地址不能超过 {URL_MAX} 个字符")
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    try:
        parts.port  # raises for a port that is not a number
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.hostname or "")
            or parts.username or any(c.isspace() for c in value)):
        raise ServiceError("登录地址应形如 http://quiz.example.gov.cn/ 或 http://192.168.1.10/")
    if not parts.path:
        value += "/"
    return value


def set_participant_url(text: str) -> str:
    """Store the participants' sign-in address (audited, one transaction); returns it cleaned."""
    value = clean_url(text)
    before = get(PARTICIPANT_URL)
    setting = db.session.get(AppSetting, PARTICIPANT_URL)
    if setting is None:
        db.session.add(AppSetting(key=PARTICIPANT_URL, value=value))
    else:
        setting.value = value
    audit.record("setting.edit", "参赛人员登录地址", f"{before or '未设置'} → {value}")
    db.session.commit()
    return value
