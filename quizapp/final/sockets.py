"""Socket.IO handlers of the live final (namespace /final).

Who a connection is, is decided once at connect and kept per sid: the host (a signed-in
organizer, for the final named in `auth`), a team (a signed-in team login: its own final and
team only) or a big screen (the final's screen token: watch only). Every event must carry the
page's CSRF token; the connect `auth` too (screens excepted: they can do nothing).

Refused — told to the sender, written to the audit log, the state unchanged: an event without
a valid CSRF token, a host action from anyone but the host, a team pressing (or choosing, or
answering) for another team, a team or screen asking for the answer key.

A press is timestamped with `time.monotonic_ns()` when its frame has been read off the
websocket — in the connection's reader, before Socket.IO decodes it and before Flask builds
the request context (`stamp_receipts`) — so press order is receive order, whatever the handler
waits for afterwards (the final's lock, the database, the GIL). Events of one connection are
handled one after another in that reader (async_handlers=False), so the connection's last
stamp is its current event's. Each accepted step is committed to the event log by
quizapp.services.final_live before it is broadcast: the host room gets the host payload (with
answers); teams and screens share one public room and get one emit: what changed of the public
state since the step before (`final_live.public_message`), or the whole state.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import request
from flask_login import current_user
from flask_socketio import emit, join_room
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy import select

from ..extensions import db, socketio
from ..models import Final, FinalTeam
from ..rules.final import HOST_KINDS
from ..services import ServiceError, audit
from ..services import final_live

NAMESPACE = "/final"


@dataclass(frozen=True)
class Client:
    role: str  # "host", "team", "screen"
    final_id: int
    team: int | None = None


_CLIENTS: dict[str, Client] = {}
_RECEIVED: dict[str, int] = {}  # engine.io sid → monotonic ns when its last message was read


def stamp_receipts(server) -> None:
    """Wrap the engine.io message handler of `server` (a socketio.Server) so that every message
    is stamped as soon as it is read, before any decoding. Idempotent per server."""
    eio = server.eio
    handler = eio.handlers.get("message")
    if handler is None or getattr(handler, "stamps", False):
        return

    def stamped(eio_sid, data):
        _RECEIVED[eio_sid] = time.monotonic_ns()
        return handler(eio_sid, data)

    stamped.stamps = True
    eio.handlers["message"] = stamped


def _received_ns() -> int:
    """When the current event's frame was read; now if it did not pass the stamping wrapper
    (the Socket.IO test client calls the server directly)."""
    try:
        eio_sid = socketio.server.manager.eio_sid_from_sid(request.sid, NAMESPACE)
    except (KeyError, AttributeError):
        eio_sid = None
    stamp = _RECEIVED.get(eio_sid) if eio_sid is not None else None
    return stamp if stamp is not None else time.monotonic_ns()


def _csrf_ok(token) -> bool:
    try:
        validate_csrf(token if isinstance(token, str) else "")
    except ValidationError:
        return False
    return True


def refuse(message: str, final_id: int | None, who: str, tell: bool = True) -> None:
    """Log the refusal and tell the sender (not a refused connection: it has no channel yet);
    nothing else changes."""
    db.session.rollback()
    audit.record("final.refused", f"现场决赛 {final_id or '?'}", f"{who}：{message}")
    db.session.commit()
    if tell:
        emit("refused", {"error": message})


def _who(client: Client | None) -> str:
    if client is None:
        return "未识别的连接"
    return {"host": "主持人", "team": f"队伍设备（{client.team}）", "screen": "大屏"}[client.role]


def _identify(auth: dict) -> Client | None:
    screen = auth.get("screen")
    if isinstance(screen, str) and screen:
        final = db.session.scalar(select(Final).filter_by(screen_token=screen[:64]))
        return Client("screen", final.id) if final else None
    if not current_user.is_authenticated:
        return None
    if current_user.role == "admin":
        final_id = auth.get("final")
        if isinstance(final_id, int) and db.session.get(Final, final_id) is not None:
            return Client("host", final_id)
        return None
    if current_user.role == "team":
        ft = db.session.scalar(select(FinalTeam).filter_by(user_id=current_user.id))
        return Client("team", ft.final_id, ft.id) if ft else None
    return None


def _payload_for(client: Client) -> dict:
    final, state, info = final_live.load(client.final_id)
    if client.role == "host":
        return final_live.host_payload(final, state, info)
    return final_live.public_payload(final, state, info)


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    if not auth.get("screen") and not _csrf_ok(auth.get("csrf")):
        refuse("连接缺少有效的安全令牌（CSRF）", auth.get("final") if isinstance(auth.get("final"), int) else None,
               _who(None), tell=False)
        return False
    client = _identify(auth)
    if client is None:
        return False
    _CLIENTS[request.sid] = client
    join_room(f"{client.role}:{client.final_id}")
    if client.role != "host":
        join_room(f"public:{client.final_id}")
    emit("state", _payload_for(client))
    return True


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*_args):
    _CLIENTS.pop(request.sid, None)
    try:
        _RECEIVED.pop(socketio.server.manager.eio_sid_from_sid(request.sid, NAMESPACE), None)
    except (KeyError, AttributeError):
        pass


def broadcast(final, state, info, kind: str = "") -> None:
    """Teams and screens (one room, one emit) get what changed of the public state
    (final_live.public_message: the press delta, a host step's changed keys, or the whole state),
    before anything else, as it is what the hall waits for; the host the payload with the answer key."""
    name, message = final_live.public_message(final, state, info, kind)
    socketio.emit(name, message, to=f"public:{final.id}", namespace=NAMESPACE)
    socketio.emit("state", final_live.host_payload(final, state, info), to=f"host:{final.id}", namespace=NAMESPACE)


def _checked(message) -> tuple[Client, dict] | None:
    """The sender and the event's data when it carries a valid CSRF token, else None (refused)."""
    client = _CLIENTS.get(request.sid)
    message = message if isinstance(message, dict) else {}
    if client is None:
        emit("refused", {"error": "连接已失效，请刷新页面"})
        return None
    if client.role == "screen":
        refuse("大屏令牌只能观看，不能操作", client.final_id, _who(client))
        return None
    if not _csrf_ok(message.get("csrf")):
        refuse("操作缺少有效的安全令牌（CSRF）", client.final_id, _who(client))
        return None
    return client, message


def _step(client: Client, kind: str, data: dict, mono_ns: int | None = None) -> None:
    try:
        final, state, info = final_live.act(client.final_id, kind, data, current_user.id, mono_ns)
    except ServiceError as exc:
        emit("refused", {"error": str(exc)})  # out of order or not allowed by the rules: not an attack
        return
    broadcast(final, state, info, kind)


@socketio.on("act", namespace=NAMESPACE)
def on_act(message=None):
    checked = _checked(message)
    if checked is None:
        return
    client, message = checked
    kind, data = message.get("kind"), message.get("data")
    if client.role != "host":
        refuse("只有主持人可以执行此操作", client.final_id, _who(client))
        return
    if kind not in HOST_KINDS or not isinstance(data, dict):
        emit("refused", {"error": "未知的操作"})
        return
    _step(client, kind, data)


def _team_event(message, kind: str, fields: tuple[str, ...], mono_ns: int | None = None) -> None:
    checked = _checked(message)
    if checked is None:
        return
    client, message = checked
    if client.role != "team":
        refuse("只有队伍设备可以抢答或选择分值", client.final_id, _who(client))
        return
    if message.get("team") != client.team:
        refuse("不能替其他队伍操作", client.final_id, _who(client))
        return
    _step(client, kind, {"team": client.team, **{f: message.get(f) for f in fields}}, mono_ns)


@socketio.on("press", namespace=NAMESPACE)
def on_press(message=None):
    received = _received_ns()  # press order is the server's receive order
    _team_event(message, "press", (), received)


@socketio.on("choose", namespace=NAMESPACE)
def on_choose(message=None):
    _team_event(message, "choose", ("value",))


@socketio.on("answer", namespace=NAMESPACE)
def on_answer(message=None):
    _team_event(message, "answer", ("response",))


@socketio.on("key", namespace=NAMESPACE)
def on_key(message=None):
    """The host console asks for the answer key (host payload) again; anyone else is refused."""
    checked = _checked(message)
    if checked is None:
        return
    client, _ = checked
    if client.role != "host":
        refuse("队伍设备不能获取答案", client.final_id, _who(client))
        return
    emit("state", _payload_for(client))


@socketio.on("sync", namespace=NAMESPACE)
def on_sync(message=None):
    """Any connected device asks for the current state again (its own audience's payload)."""
    client = _CLIENTS.get(request.sid)
    if client is not None:
        emit("state", _payload_for(client))
