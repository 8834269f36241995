"""The signed-cookie session, marked `Secure` whenever the request came over HTTPS.

Behind nginx, ProxyFix (QUIZAPP_PROXY_COUNT) makes `request.is_secure` follow the proxy's
X-Forwarded-Proto, so a deployment served over HTTPS gets Secure cookies without a setting,
while the plain-HTTP intranet demo still works. SESSION_COOKIE_SECURE=True forces it always.
"""
from __future__ import annotations

from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)
