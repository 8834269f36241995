"""One read of a round's answers into arrays, summed with numpy for every figure of the 体检.

A 50,000 × 100 round is five million answer rows. Grouping them in SQL took four passes of
joins and CASE expressions (tens of seconds on two cores, even on PostgreSQL with parallel
aggregates); reading them once as four numbers each — attempt, question, position, points — and summing
in numpy takes a few seconds. On PostgreSQL the rows come through `COPY … TO STDOUT (FORMAT
BINARY)`, one row per attempt holding its answers as arrays, parsed by numpy (no Python
object per answer), while a second connection, on the same snapshot, counts the responses
per question (a GROUP BY the database runs on the other core); on SQLite both run in turn.

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


def _read(round_ids: list[int], attempt_ids: list[int]) -> tuple[dict[str, np.ndarray], list]:
    """(every counted answer as the arrays of COLUMNS, [(question, response text, count)])."""
    connection = db.session.connection()
    if db.engine.dialect.name != "postgresql":
        raw = connection.connection.driver_connection
        rows = raw.execute(f"SELECT attempt_id, question_id, position, COALESCE(points, 0) FROM attempt_item "
                           f"WHERE attempt_id IN ({_counted(round_ids)})")
        records = np.fromiter(rows, dtype=np.dtype([("a", "i8"), ("q", "i8"), ("pos", "i8"), ("p", "f8")]))
        return {name: records[name] for name in COLUMNS}, raw.execute(_response_sql(round_ids)).fetchall()
    # Two server processes share the work, one per core: this connection copies the first
    # ~60 % of the attempts; a second one, on the same snapshot, the rest and then counts
    # the responses.
    cut = attempt_ids[int(len(attempt_ids) * 0.6)] if attempt_ids else 0
    snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
    engine, other_part = db.engine, {}

    def second_connection():
        try:
            with engine.connect() as other:
                other.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                other_part["answers"] = _copy_answers(other.connection.driver_connection, round_ids, f">= {cut}")
                other_part["responses"] = other.execute(text(_response_sql(round_ids))).all()
        except Exception as error:  # re-raised in the caller's thread below
            other_part["error"] = error

    worker = threading.Thread(target=second_connection, name="health-scan")
    worker.start()
    try:
        mine = _copy_answers(connection.connection.driver_connection, round_ids, f"< {cut}")
    finally:
        worker.join()
    if "error" in other_part:
        raise other_part["error"]
    answers = {name: np.concatenate([mine[name], other_part["answers"][name]]) for name in COLUMNS}
    return answers, other_part["responses"]


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
    ids = ", ".join(str(int(i)) for i in round_ids)
    raw = db.session.connection().connection.driver_connection
    rows = raw.execute(f"SELECT a.id, a.round_id, COALESCE(u.unit_id, 0), COALESCE(a.score, 0), COALESCE(a.max_score, 0) "
                       f"FROM attempt a JOIN \"user\" u ON u.id = a.user_id WHERE a.id IN ({_counted(round_ids)}) "
                       f"ORDER BY a.id").fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


def scan(rounds: list[Round]) -> Scan:
    """Read the rounds' counted answers once and sum them (see the module docstring)."""
    rounds = sorted(rounds, key=lambda r: r.id)
    round_index = {r.id: i for i, r in enumerate(rounds)}
    attempts = _attempts(list(round_index))
    out = Scan(scores={r.id: [] for r in rounds})
    for row in attempts.tolist():
        out.scores[int(row[1])].append((row[3], row[4]))
    a_id = attempts[:, 0].astype(np.int64)
    answers, response_rows = _read(list(round_index), a_id.tolist())
    if not len(a_id) or not len(answers["a"]):
        return out
    a_round = np.searchsorted(np.array(sorted(round_index), dtype=np.int64), attempts[:, 1].astype(np.int64))
    a_unit = attempts[:, 2].astype(np.int64)
    a_score, a_max = attempts[:, 3], attempts[:, 4]

    numbered = topic_keys()
    questions = db.session.execute(select(numbered.c.id, numbered.c.type, numbered.c.void, numbered.c.tk)).all()
    size = max(q.id for q in questions) + 1
    q_type = np.zeros(size, dtype=np.int64)
    q_valid = np.zeros(size, dtype=bool)
    q_tk = np.zeros(size, dtype=np.int64)
    types = {}
    for q in questions:
        q_type[q.id], q_valid[q.id], q_tk[q.id] = TYPES.index(q.type), q.void is None, q.tk
        types[q.id] = q.type
    full_table = np.array([[scoring_rules(r).points_for(t) for t in TYPES] for r in rounds])

    ai = np.searchsorted(a_id, answers["a"])
    q = answers["q"].astype(np.intp)
    p = answers["p"].astype(np.float64)
    pos = answers["pos"].astype(np.intp)
    # One round (the usual case) needs no per-answer round; all answers valid and with a rest
    # (no voided question) need no masks: each skipped pass is a tenth of a second.
    rnd = a_round[ai] if len(rounds) > 1 else None
    full = full_table[rnd, q_type[q]] if rnd is not None else full_table[0][q_type[q]]
    valid = q_valid[q] & (full > EPS)
    all_valid = bool(valid.all())
    x = p / full if all_valid else np.where(valid, p / np.where(full > EPS, full, 1.0), 0.0)
    rest_max = a_max[ai] - full
    has_rest = valid & (rest_max > EPS)
    all_rest = bool(has_rest.all())
    r = ((a_score[ai] - p) / rest_max if all_rest
         else np.where(has_rest, (a_score[ai] - p) / np.where(rest_max > EPS, rest_max, 1.0), 0.0))

    units, unit_index = np.unique(a_unit, return_inverse=True)   # per attempt: 50,000, not 5,000,000
    keep = None if all_valid else valid
    out.cells = _cells(units, unit_index[ai], q_tk[q], x, keep)
    out.items = _item_sums(q, x, r, keep, None if all_rest else has_rest, size)
    out.responses = _responses(response_rows, q_valid, types)
    out.slots = _slots(rnd, pos, p, rounds)
    return out


def _masked(mask, *arrays):
    """The arrays under a boolean mask; as they are when the mask is None (everything kept)."""
    return arrays if mask is None else tuple(a[mask] for a in arrays)


def _cells(units: np.ndarray, unit_index: np.ndarray, tk: np.ndarray, x: np.ndarray, valid) -> list:
    unit_index, tk, x = _masked(valid, unit_index, tk, x)
    width = int(tk.max()) + 1
    key = unit_index * width + tk
    n = np.bincount(key)
    sx = np.bincount(key, weights=x)
    present = np.nonzero(n)[0]
    return [(int(units[k // width]), int(k % width), float(sx[k]), int(n[k])) for k in present.tolist()]


def _item_sums(q, x, r, valid, has_rest, size) -> dict:
    """Per question: answers, Σx, and the sums of the answers that have a rest score — including
    Σ x_(k)·r_(k) with both sorted within the question, which sorting (question·2 + value) gives
    at once, since values lie in [0, 1]."""
    qv, xv = _masked(valid, q, x)
    n = np.bincount(qv, minlength=size)
    sx = np.bincount(qv, weights=xv, minlength=size)
    qm, xm, rm = _masked(has_rest, q, x, r)
    sums = [np.bincount(qm, minlength=size)] + [np.bincount(qm, weights=w, minlength=size)
                                                 for w in (xm, xm * xm, rm, rm * rm, xm * rm)]
    qs = np.repeat(np.arange(size), sums[0].astype(np.int64))   # qm sorted, from its counts
    xs = np.sort(qm * 2.0 + xm) - qs * 2.0
    rs = np.sort(qm * 2.0 + rm) - qs * 2.0
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


def _slots(rnd, pos, p, rounds) -> list[dict]:
    """Rows, Σpoints and Σpoints² per (round, position); rnd is None for one round."""
    width = int(pos.max()) + 1
    key = pos if rnd is None else rnd * width + pos
    rows = np.bincount(key)
    sp = np.bincount(key, weights=p)
    spp = np.bincount(key, weights=p * p)
    return [{"rid": rounds[k // width].id, "pos": int(k % width), "rows": int(rows[k]), "sp": float(sp[k]),
             "spp": float(spp[k])} for k in np.nonzero(rows)[0]]
