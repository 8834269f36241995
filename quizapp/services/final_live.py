"""The live final: every step is validated by quizapp.rules.final, written as the next row of
the final's append-only event log in one transaction, and only then broadcast by the caller.

The state is never stored: it is the replay of the log. Each process keeps the last replayed
state per final and catches up with the rows it has not seen (written by another process, or
before a restart), so a reconnecting device always gets exactly the state the log says.
Timers are (start, seconds) in the log; payloads carry the server's `now`, so every screen
shows the same remaining time after a restart.

Payloads are separate per audience: `host_payload` has the answer key of every question;
`public_payload` (teams, big screens) has a question's text only once it is shown and its
answer, 解析 and article only once revealed.
"""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..banks.docs import article_label, doc_title
from ..banks.loader import TYPE_LABELS
from ..extensions import db
from ..models import Final, FinalEvent
from ..rules import final as rules
from . import ServiceError, audit
from .final import mark_status

_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
# (final id, screen token) → (state, static info); the token tells apart finals that reuse an id.
_STATES: dict[tuple[int, str], tuple[rules.State, dict]] = {}
AUDITED = {"begin": "final.begin", "adjust": "final.adjust", "tiebreak": "final.tiebreak", "finish": "final.finish"}


def _boot_id() -> str:
    """The machine's boot: monotonic readings of one boot compare, across boots they do not."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:40]
    except OSError:
        return uuid.uuid4().hex  # no shared boot id: this process's clock only
BOOT = _boot_id()


def time_ns() -> int:
    """The monotonic clock presses are ordered by (taken at a handler's entry)."""
    return time.monotonic_ns()


def _lock(final_id: int) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(final_id, threading.Lock())


def epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _static(final: Final) -> dict:
    """What does not change during a final: teams and the run sheet's questions."""
    teams = {ft.id: {"id": ft.id, "name": ft.team.name, "position": ft.position} for ft in final.teams}
    slots = []
    for fq in final.questions:
        q = fq.question
        options = dict(q.options)
        slots.append({
            "part": fq.part, "team": fq.final_team_id, "qid": q.qid, "type": q.type,
            "type_label": TYPE_LABELS.get(q.type, q.type), "stem": q.stem,
            "options": [[key, options.get(key, "")] for key in fq.option_order],
            "answer": q.answer, "explanation": q.explanation,
            "source": f"{doc_title(q.source_doc)}{article_label(q.source_article)}", "basis": q.source_basis,
        })
    return {"teams": teams, "slots": slots, "name": final.round.name}


def _event(row: FinalEvent) -> rules.Event:
    return rules.Event(row.kind, row.data or {}, row.seq, row.at_ms, row.mono_ns, row.boot or "")


def _initial(final: Final, info: dict) -> rules.State:
    slots = [{"part": s["part"], "team": s["team"]} for s in info["slots"]]
    return rules.initial(final.config, [ft.id for ft in final.teams], slots)


def load(final_id: int) -> tuple[Final, rules.State, dict]:
    """The final, its state rebuilt from the log (catching up with rows this process has not
    replayed) and its static info. Raises ServiceError if there is no such final."""
    final = db.session.get(Final, final_id)
    if final is None:
        raise ServiceError("没有这场决赛")
    key = (final_id, final.screen_token)
    cached = _STATES.get(key)
    if cached is None or final.status == "ready":  # questions may still be swapped: no stale text
        info = _static(final)
        state = _initial(final, info)
    else:
        state, info = cached
    rows = db.session.scalars(select(FinalEvent).where(FinalEvent.final_id == final_id, FinalEvent.seq > state.seq)
                              .order_by(FinalEvent.seq)).all()
    state = rules.replay(state, [_event(row) for row in rows])
    _STATES[key] = (state, info)
    return final, state, info


def load_state(final_id: int) -> rules.State:
    return load(final_id)[1]


def act(final_id: int, kind: str, data: dict, actor_id: int | None, mono_ns: int | None = None,
        attempts: int = 5) -> tuple[Final, rules.State, dict]:
    """Apply one step and commit it as the next event. Raises ServiceError (Chinese) when the
    rules refuse it; nothing is written then. Two processes racing for the same seq: the
    loser's insert fails on the unique (final, seq), it catches up and tries again."""
    with _lock(final_id):
        for _ in range(attempts):
            final, state, info = load(final_id)
            now = clock.now()
            event = rules.Event(kind, data, state.seq + 1, epoch_ms(now), mono_ns, BOOT if mono_ns is not None else "")
            try:
                new = rules.apply(state, event)
            except rules.IllegalTransition as exc:
                db.session.rollback()
                raise ServiceError(str(exc)) from None
            db.session.add(FinalEvent(final_id=final_id, seq=event.seq, kind=kind, data=data, at=now,
                                      at_ms=event.at, mono_ns=mono_ns, boot=event.boot, actor_id=actor_id))
            mark_status(final, new)
            if kind in AUDITED:
                audit.record(AUDITED[kind], final.round.name, _audit_summary(kind, data, info))
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                continue
            _STATES[(final_id, final.screen_token)] = (new, info)
            return final, new, info
    raise ServiceError("服务器繁忙，请重试")


def _audit_summary(kind: str, data: dict, info: dict) -> str:
    name = lambda team: info["teams"].get(team, {}).get("name", "?")  # noqa: E731
    if kind == "adjust":
        return f"{name(data.get('team'))} {data.get('delta'):+d} 分，理由：{data.get('reason')}"
    if kind == "tiebreak":
        mode = rules.TIEBREAK_MODES.get(data.get("mode", "buzzer"), "加赛")
        return f"{mode}：" + "、".join(name(t) for t in data.get("teams", []))
    return {"begin": "现场决赛开始", "finish": "现场决赛结束"}[kind]


def _presses(state: rules.State, info: dict) -> list[dict]:
    """Every press of this question with its offset in ms from the first valid press."""
    valid = state.valid_presses()
    first = valid[0].order if valid else None
    rows = []
    for press in valid:
        offset = (press.order[1] - first[1]) / 1e6 if press.order[0] == first[0] else None
        rows.append({"team": press.team, "name": info["teams"][press.team]["name"], "offset_ms": offset,
                     "tied": press.team in state.tied})
    early = [{"team": p.team, "name": info["teams"][p.team]["name"]} for p in state.presses if p.false_start]
    return {"order": rows, "false_starts": early}


def public_payload(final: Final, state: rules.State, info: dict) -> dict:
    """What team devices and big screens may see: never an answer before it is revealed."""
    current = None
    if state.slot is not None:
        slot = info["slots"][state.slot]
        current = {"number": state.slot + 1, "part": slot["part"], "part_label": rules.PARTS[slot["part"]],
                   "team": state.turn, "type_label": slot["type_label"], "value": state.value}
        if state.phase not in ("idle", "announced"):
            current.update(stem=slot["stem"], options=slot["options"])
        if state.phase == "revealed":
            current.update(answer=slot["answer"], explanation=slot["explanation"], source=slot["source"],
                           basis=slot["basis"])
    rows = [{"rank": rank, "team": team, "name": info["teams"][team]["name"], "score": score}
            for rank, team, score in rules.ranking(state)]
    return {
        "final": final.id, "name": info["name"], "seq": state.seq, "status": state.status, "phase": state.phase,
        "question": current, "scores": rows, "presses": _presses(state, info), "locked": state.locked,
        "answering": state.answering, "tied": state.tied, "result": state.result, "timer": state.timer,
        "tiebreak": state.tiebreak, "teams": list(info["teams"].values()), "now": epoch_ms(clock.now()),
        "risk": _values(state, "risk"), "tiebreak_risk": _values(state, "tiebreak_risk"),
        "tiebreak_mode": state.tiebreak_mode if state.tiebreak is not None else None,
        "tiebreak_round": {"teams": state.tiebreak_round, "played": state.tiebreak_played,
                           "number": state.tiebreak_rounds, "outcome": state.tiebreak_outcome},
        "on_device": bool(state.config["required"]["on_device"]),
        "answered": sorted(state.answers),
    }


def _values(state: rules.State, part: str) -> dict:
    """A 风险 part's values, how often each may be used and how often each team has used which."""
    settings = state.config[part]
    book = state.risk_used if part == "risk" else state.tiebreak_used
    return {"values": settings["values"], "uses": settings["uses_per_value"],
            "used": {str(t): {str(v): n for v, n in used.items()} for t, used in book.items()}}


# What a press can change, so what the press delta carries (never a question's text or answer).
PRESS_FIELDS = ("seq", "phase", "presses", "locked", "answering", "tied", "timer", "scores", "now")


# (final id, screen token) → the public payload of the last step this process broadcast.
_PUBLIC: dict[tuple[int, str], dict] = {}


def public_message(final: Final, state: rules.State, info: dict, kind: str) -> tuple[str, dict]:
    """What teams and big screens are sent after step `kind`: ("delta", changes) or ("state",
    the whole public payload). A press: always the press delta (PRESS_FIELDS). A host step: the
    top-level keys of the public payload that differ from seq − 1's (plus seq and now) when this
    process broadcast seq − 1 itself, else the whole state — so a delta is always relative to
    exactly the state before it, whichever process of several sent that one. Either way nothing
    outside the public payload: no answer before it is revealed."""
    public = public_payload(final, state, info)
    key = (final.id, final.screen_token)
    previous = _PUBLIC.get(key)
    if previous is None or previous["seq"] < public["seq"]:
        _PUBLIC[key] = public
    if kind == "press":
        return "delta", {field: public[field] for field in PRESS_FIELDS}
    if previous is not None and previous["seq"] == public["seq"] - 1:
        return "delta", {field: value for field, value in public.items()
                         if field in ("seq", "now") or previous.get(field) != value}
    return "state", public


def host_payload(final: Final, state: rules.State, info: dict) -> dict:
    """The public payload plus the answer key, the run sheet, on-device answers and the buttons."""
    payload = public_payload(final, state, info)
    sheet = [{"number": i + 1, "part_label": rules.PARTS[s["part"]], "team": s["team"], "qid": s["qid"],
              "type_label": s["type_label"], "stem": s["stem"], "done": i in state.done} for i, s in enumerate(info["slots"])]
    current = None
    if state.slot is not None:
        slot = info["slots"][state.slot]
        current = {key: slot[key] for key in ("stem", "options", "answer", "explanation", "source", "basis", "type_label")}
    payload.update(host=True, sheet=sheet, key=current, allowed=rules.allowed(state),
                   answers={str(t): a for t, a in state.answers.items()}, next_slot=state.next_slot(),
                   ledger=[{"seq": s, "team": t, "delta": d, "why": w} for s, t, d, w in state.ledger[-30:]])
    return payload
