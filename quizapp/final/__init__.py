"""The on-stage 决赛's pages (organizer set-up, host console, team buzzer, big screen) and its
Socket.IO handlers (namespace /final)."""
from flask import Blueprint

bp = Blueprint("final", __name__)

from . import routes, sockets  # noqa: E402,F401  (register routes and socket handlers)
