"""One read of a round's answers into arrays, summed with numpy for every figure of the 体检.

A 50,000 × 100 round is five million answer rows. Grouping them in SQL took four passes of
joins and CASE expressions (tens of seconds on two cores, even on PostgreSQL with parallel
aggregates); reading them once as four numbers each — attempt, question, position, points — and summing
in numpy takes a few seconds. On PostgreSQL the rows come through `COPY … TO STDOUT (FORMAT
BINARY)`, one row per attempt holding its answers as arrays, parsed by numpy (no Python
object per answer), in two parts over two connections on one snapshot; each part is summed
as soon as it has arrived, while the database still copies the other part and counts the
responses per question (a GROUP BY on the other core). The sums of the parts add up; the
sorted pairing of the efficiency merges the parts' sorted keys. On SQLite all runs in turn.

What the scan returns (`Scan`):
  cells      (unit, topic key) → Σx, answers                        → the heatmaps
  items      question → answers, Σx and the ItemSums of the answers that have a rest score
             (facility, discrimination and the exactly sorted pairing of the efficiency)
  responses  question → [(response, count)]                       → option shares, wrong answers
  slots      (round, position) → rows, Σpoints, Σpoints²           → Cronbach's alpha by slot
  scores     round → (score, max score) of each counted attempt      → mean, median, SD, histogram

x is the answer's points over its question's points in that round; r is the rest of the
person's paper as a fraction of its maximum. Voided questions have no x (left out of
everything but the slots, which use the stored points as scored).
"""
from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import Question, Round
from ..rules.statistics import ItemSums
from ..scoring import DEFAULT_POINTS
from .drawing import scoring_rules

EPS = 1e-9
TYPES = tuple(DEFAULT_POINTS)            # the index of a question type in the points table
COLUMNS = ("a", "q", "pos", "p")         # attempt id, question id, position, points of each answer


@dataclass
class Scan:
    cells: list[tuple[int, int, float, int]] = field(default_factory=list)   # unit, tk, Σx, n
    items: dict[int, tuple[int, float, ItemSums]] = field(default_factory=dict)
    responses: dict[int, list[tuple[object, int]]] = field(default_factory=dict)
    slots: list[dict] = field(default_factory=list)                          # rid, pos, rows, sp, spp
    scores: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # round → (score, max) per attempt


def topic_keys():
    """Questions numbered by (document, chapter): the integer the scan groups by."""
    return select(Question.id, Question.type, Question.void, Question.source_doc, Question.topic,
                  func.dense_rank().over(order_by=(Question.source_doc, Question.topic)).label("tk")).subquery()


def _counted(round_ids: list[int]) -> str:
    """SQL: the attempt ids whose answers count (finalized, not invalidated, of these rounds)."""
    ids = ", ".join(str(int(i)) for i in round_ids)
    return (f"SELECT id FROM attempt WHERE round_id IN ({ids}) AND status != 'in_progress' "
            "AND invalidated_at IS NULL")


def _response_sql(round_ids: list[int]) -> str:
    return (f"SELECT question_id, CAST(response AS TEXT), count(*) FROM attempt_item "
            f"WHERE attempt_id IN ({_counted(round_ids)}) GROUP BY question_id, CAST(response AS TEXT)")


def _read(round_ids: list[int], attempt_ids: list[int], summed) -> tuple[list[dict], list]:
    """([summed(part) for each part of the counted answers], [(question, response text, count)]).
    A part is the answers of a range of attempts as the arrays of COLUMNS; `summed` runs on
    each part as soon as it has arrived, while the database still works on the rest."""
    connection = db.session.connection()
    if db.engine.dialect.name != "postgresql":
        raw = connection.connection.driver_connection
        rows = raw.execute(f"SELECT attempt_id, question_id, position, COALESCE(points, 0) FROM attempt_item "
                           f"WHERE attempt_id IN ({_counted(round_ids)})")
        records = np.fromiter(rows, dtype=np.dtype([("a", "i8"), ("q", "i8"), ("pos", "i8"), ("p", "f8")]))
        return [summed({name: records[name] for name in COLUMNS})], raw.execute(_response_sql(round_ids)).fetchall()
    # Two server processes share the reading, one per core: this connection copies the first
    # ~60 % of the attempts and sums them while a second one, on the same snapshot, copies the
    # rest (handed over through `arrived`) and then counts the responses.
    cut = attempt_ids[int(len(attempt_ids) * 0.6)] if attempt_ids else 0
    snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
    engine, other_part, arrived = db.engine, {}, queue.Queue()

    def second_connection():
        try:
            with engine.connect() as other:
                other.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                arrived.put(_copy_answers(other.connection.driver_connection, round_ids, f">= {cut}"))
                other_part["responses"] = other.execute(text(_response_sql(round_ids))).all()
        except Exception as error:  # re-raised in the caller's thread below
            other_part["error"] = error
            arrived.put(None)

    worker = threading.Thread(target=second_connection, name="health-scan")
    worker.start()
    parts = []
    try:
        parts.append(summed(_copy_answers(connection.connection.driver_connection, round_ids, f"< {cut}")))
        rest = arrived.get()
        if rest is not None:
            parts.append(summed(rest))
    finally:
        worker.join()
    if "error" in other_part:
        raise other_part["error"]
    return parts, other_part["responses"]


def _copy_answers(raw, round_ids: list[int], id_range: str) -> dict[str, np.ndarray]:
    """One COPY row per attempt, its answers as three arrays: libpq hands COPY data over one
    row per call, and five million calls cost more in Python than the whole sum; fifty
    thousand do not. The binary format is parsed with numpy (see _parse_attempt_rows)."""
    sql = (f"COPY (SELECT attempt_id::int4, array_agg(question_id::int4), array_agg(position::int4), "
           f"array_agg(COALESCE(points, 0)::float8) FROM attempt_item WHERE attempt_id IN ({_counted(round_ids)}) "
           f"AND attempt_id {id_range} GROUP BY attempt_id) TO STDOUT (FORMAT BINARY)")
    chunks = []
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in copy:
            chunks.append(chunk)
    return _parse_attempt_rows(b"".join(chunks))


# PostgreSQL's binary COPY: a 19-byte header; per row a 16-bit field count, then per field a
# 32-bit length and the big-endian value; a one-dimensional array value is five 32-bit words
# (dimensions, null flag, element type, length, lower bound) and per element its 32-bit
# length and value. No field and no element is NULL here.
_COPY_HEADER = 19
_INT = np.dtype([("len", ">i4"), ("v", ">i4")])
_FLOAT = np.dtype([("len", ">i4"), ("v", ">f8")])
_ARRAYS = (("q", _INT), ("pos", _INT), ("p", _FLOAT))


def _uniform_rows(count: int) -> np.dtype:
    """The record of a row whose arrays all hold `count` answers."""
    fields = [("n", ">i2"), ("la", ">i4"), ("a", ">i4")]
    for name, element in _ARRAYS:
        fields += [(f"{name}_len", ">i4"), (f"{name}_head", ">i4", (5,)), (name, element, (count,))]
    return np.dtype(fields)


def _parse_attempt_rows(data: bytes) -> dict[str, np.ndarray]:
    from struct import unpack_from

    body = len(data) - _COPY_HEADER - 2
    if body <= 0:
        return {name: np.zeros(0, dtype=np.float64 if name == "p" else np.int64) for name in COLUMNS}
    # Most rounds give every paper the same number of questions: then every row has one
    # layout and numpy reads them all at once (checked field by field below).
    first = unpack_from(">iiiiii", data, _COPY_HEADER + 10)[4]
    record = _uniform_rows(first)
    if body % record.itemsize == 0:
        rows = np.frombuffer(data, dtype=record, count=body // record.itemsize, offset=_COPY_HEADER)
        if (rows["n"] == 4).all() and all((rows[f"{n}_head"][:, 3] == first).all() for n, _ in _ARRAYS):
            out = {name: rows[name]["v"].reshape(-1) for name, _ in _ARRAYS}
            out["a"] = np.repeat(rows["a"].astype(np.int64), first)
            return out
    view = memoryview(data)
    offset, end = _COPY_HEADER, len(data) - 2
    ids, counts, parts = [], [], {name: [] for name, _ in _ARRAYS}
    while offset < end:
        fields, _, attempt_id = unpack_from(">hii", view, offset)
        if fields != 4:
            raise RuntimeError("unexpected COPY layout")
        offset += 10
        for name, element in _ARRAYS:
            length, _, _, _, count, _ = unpack_from(">iiiiii", view, offset)
            parts[name].append(np.frombuffer(view, dtype=element, count=count, offset=offset + 24)["v"])
            offset += 4 + length
        ids.append(attempt_id)
        counts.append(count)
    out = {name: np.concatenate(values) for name, values in parts.items()}
    out["a"] = np.repeat(np.array(ids, dtype=np.int64), counts)
    return out


def _attempts(round_ids: list[int]) -> np.ndarray:
    """The counted attempts as rows (id, round id, unit id or 0, score, max score), ordered by id;
    read with the driver's cursor (50,000 rows through the ORM cost a quarter of a second)."""
    raw = db.session.connection().connection.driver_connection
    rows = raw.execute(f"SELECT a.id, a.round_id, COALESCE(u.unit_id, 0), COALESCE(a.score, 0), COALESCE(a.max_score, 0) "
                       f"FROM attempt a JOIN \"user\" u ON u.id = a.user_id WHERE a.id IN ({_counted(round_ids)}) "
                       f"ORDER BY a.id").fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


@dataclass
class _Context:
    """What each part of the answers is summed against: per counted attempt (in id order) its
    id, round index, cell base (unit index × width), score and maximum; per question id its
    type index, whether it counts and its topic key."""
    a_id: np.ndarray
    a_round: np.ndarray
    a_cell: np.ndarray
    a_score: np.ndarray
    a_max: np.ndarray
    q_type: np.ndarray
    q_valid: np.ndarray
    q_tk: np.ndarray
    full_table: np.ndarray        # round index × type index → the question's points
    cells: int                    # units × width


def scan(rounds: list[Round]) -> Scan:
    """Read the rounds' counted answers once and sum them (see the module docstring)."""
    rounds = sorted(rounds, key=lambda r: r.id)
    round_ids = [r.id for r in rounds]
    attempts = _attempts(round_ids)
    out = Scan(scores={r.id: [] for r in rounds})
    for row in attempts.tolist():
        out.scores[int(row[1])].append((row[3], row[4]))
    if not len(attempts):
        return out
    numbered = topic_keys()
    questions = db.session.execute(select(numbered.c.id, numbered.c.type, numbered.c.void, numbered.c.tk)).all()
    size = max((q.id for q in questions), default=0) + 1
    q_type = np.zeros(size, dtype=np.int64)
    q_valid = np.zeros(size, dtype=bool)
    q_tk = np.zeros(size, dtype=np.int64)
    types = {}
    for q in questions:
        q_type[q.id], q_valid[q.id], q_tk[q.id] = TYPES.index(q.type), q.void is None, q.tk
        types[q.id] = q.type
    width = int(q_tk.max()) + 1
    units, unit_index = np.unique(attempts[:, 2].astype(np.int64), return_inverse=True)
    ctx = _Context(a_id=attempts[:, 0].astype(np.int64),
                   a_round=np.searchsorted(np.array(round_ids, dtype=np.int64), attempts[:, 1].astype(np.int64)),
                   a_cell=unit_index.astype(np.int64) * width, a_score=attempts[:, 3], a_max=attempts[:, 4],
                   q_type=q_type, q_valid=q_valid, q_tk=q_tk,
                   full_table=np.array([[scoring_rules(r).points_for(t) for t in TYPES] for r in rounds]),
                   cells=len(units) * width)
    parts, response_rows = _read(round_ids, ctx.a_id.tolist(), lambda answers: _sums(ctx, answers))
    parts = [part for part in parts if part is not None]
    if not parts:
        return out
    total = {key: sum(part[key] for part in parts) for key in ("cell_n", "cell_sx", "n", "sx")}
    present = np.nonzero(total["cell_n"])[0]
    out.cells = [(int(units[k // width]), int(k % width), float(total["cell_sx"][k]), int(total["cell_n"][k]))
                 for k in present.tolist()]
    out.items = _item_sums(total["n"], total["sx"], parts, size)
    out.responses = _responses(response_rows, q_valid, types)
    out.slots = _slots(parts, round_ids)
    return out


def _masked(mask, *arrays):
    """The arrays under a boolean mask; as they are when the mask is None (everything kept)."""
    return arrays if mask is None else tuple(a[mask] for a in arrays)


def _sums(ctx: _Context, answers: dict[str, np.ndarray]) -> dict | None:
    """The additive sums of one part of the answers — any split by attempt adds up to the
    same totals — and its sorted pairing keys (merged in _item_sums). None for no answers."""
    if not len(answers["a"]):
        return None
    size = len(ctx.q_type)
    ai = np.searchsorted(ctx.a_id, answers["a"])
    q = answers["q"].astype(np.intp)
    p = answers["p"].astype(np.float64)
    pos = answers["pos"].astype(np.intp)
    # One round (the usual case) needs no per-answer round; all answers valid and with a rest
    # (no voided question) need no masks: each skipped pass is a tenth of a second.
    rnd = ctx.a_round[ai] if len(ctx.full_table) > 1 else None
    full = ctx.full_table[rnd, ctx.q_type[q]] if rnd is not None else ctx.full_table[0][ctx.q_type[q]]
    valid = ctx.q_valid[q] & (full > EPS)
    all_valid = bool(valid.all())
    x = p / full if all_valid else np.where(valid, p / np.where(full > EPS, full, 1.0), 0.0)
    rest_max = ctx.a_max[ai] - full
    has_rest = valid & (rest_max > EPS)
    all_rest = bool(has_rest.all())
    r = ((ctx.a_score[ai] - p) / rest_max if all_rest
         else np.where(has_rest, (ctx.a_score[ai] - p) / np.where(rest_max > EPS, rest_max, 1.0), 0.0))
    keep = None if all_valid else valid
    qv, xv, cell = _masked(keep, q, x, ctx.a_cell[ai] + ctx.q_tk[q])
    out = {"cell_n": np.bincount(cell, minlength=ctx.cells), "cell_sx": np.bincount(cell, weights=xv, minlength=ctx.cells),
           "n": np.bincount(qv, minlength=size), "sx": np.bincount(qv, weights=xv, minlength=size)}
    qm, xm, rm = _masked(None if all_rest else has_rest, q, x, r)
    out["rest"] = [np.bincount(qm, minlength=size)] + [np.bincount(qm, weights=w, minlength=size)
                                                       for w in (xm, xm * xm, rm, rm * rm, xm * rm)]
    # Sorting (question·2 + value) sorts the values within each question, since values lie in [0, 1].
    out["kx"], out["kr"] = np.sort(qm * 2.0 + xm), np.sort(qm * 2.0 + rm)
    rounds, slot_width = len(ctx.full_table), int(pos.max()) + 1
    key = pos if rnd is None else rnd * slot_width + pos
    out["slots"] = [np.bincount(key, weights=w, minlength=rounds * slot_width).reshape(rounds, slot_width)
                    for w in (None, p, p * p)]
    return out


def _item_sums(n: np.ndarray, sx: np.ndarray, parts: list[dict], size: int) -> dict:
    """Per question: answers, Σx, and the sums of the answers that have a rest score — including
    Σ x_(k)·r_(k) with both sorted within the question: the parts' sorted keys merged (a stable
    sort of sorted runs is a merge)."""
    sums = [sum(part["rest"][i] for part in parts) for i in range(6)]
    qs = np.repeat(np.arange(size), sums[0].astype(np.int64))
    xs = np.sort(np.concatenate([part["kx"] for part in parts]), kind="stable") - qs * 2.0
    rs = np.sort(np.concatenate([part["kr"] for part in parts]), kind="stable") - qs * 2.0
    paired = np.bincount(qs, weights=xs * rs, minlength=size)
    result = {}
    for question in np.nonzero(n)[0]:
        nr, sxv, sxxv, sr, srr, sxr = (s[question] for s in sums)
        result[int(question)] = (int(n[question]), float(sx[question]),
                                 ItemSums(int(nr), float(sxv), float(sxxv), float(sr), float(srr), float(sxr),
                                          float(paired[question])))
    return result


def _responses(rows: list, valid: np.ndarray, types: dict) -> dict:
    """{question: [(response, count)]} of the unvoided choice questions, from the GROUP BY rows."""
    out: dict = {}
    for question, raw, count in rows:
        if types.get(question) in (None, "fill") or not valid[question]:
            continue
        response = json.loads(raw) if raw not in (None, "null") else None
        out.setdefault(question, []).append((response, int(count)))
    return out


def _slots(parts: list[dict], round_ids: list[int]) -> list[dict]:
    """Rows, Σpoints and Σpoints² per (round, position), the parts' tables added up."""
    width = max(part["slots"][0].shape[1] for part in parts)
    rows, sp, spp = (sum(np.pad(part["slots"][i], ((0, 0), (0, width - part["slots"][i].shape[1]))) for part in parts)
                     for i in range(3))
    return [{"rid": round_ids[k], "pos": int(j), "rows": int(rows[k, j]), "sp": float(sp[k, j]),
             "spp": float(spp[k, j])} for k, j in zip(*np.nonzero(rows))]
