"""One read of a round's answers into arrays, summed with numpy for every figure of the 体检.

A 50,000 × 100 round is five million answer rows. Grouping them in SQL took four passes of
joins and CASE expressions (tens of seconds on two cores, even on PostgreSQL with parallel
aggregates); reading them once as four numbers each — attempt, question, position, points —
plus a small integer code of the response, and summing in numpy, takes a few seconds. On
PostgreSQL the rows come through `COPY … TO STDOUT (FORMAT BINARY)`, parsed in one call by a
numpy record type (no Python object per row); on SQLite through the cursor into `np.fromiter`.

What the scan returns (`Scan`):
  cells      (unit, topic key) → Σx, answers                        → the heatmaps
  items      question → answers, Σx and the ItemSums of the answers that have a rest score
             (facility, discrimination and the exactly sorted pairing of the efficiency)
  responses  question → [(response, count)]                       → option shares, wrong answers
  slots      (round, position) → rows, Σpoints, Σpoints²           → Cronbach's alpha by slot

x is the answer's points over its question's points in that round; r is the rest of the
person's paper as a fraction of its maximum. Voided questions have no x (left out of
everything but the slots, which use the stored points as scored).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select

from ..extensions import db
from ..models import Attempt, Question, Round, User
from ..rules.statistics import ItemSums
from ..scoring import DEFAULT_POINTS
from .drawing import scoring_rules

EPS = 1e-9
TYPES = tuple(DEFAULT_POINTS)            # the index of a question type in the points table
LETTERS = "ABCDEFGH"                     # option letters a response code can carry (bits 0–7)
TRUE_CODE, FALSE_CODE = 1 << 8, 1 << 9   # 判断 responses


@dataclass
class Scan:
    cells: list[tuple[int, int, float, int]] = field(default_factory=list)   # unit, tk, Σx, n
    items: dict[int, tuple[int, float, ItemSums]] = field(default_factory=dict)
    responses: dict[int, list[tuple[object, int]]] = field(default_factory=dict)
    slots: list[dict] = field(default_factory=list)                          # rid, pos, rows, sp, spp


def topic_keys():
    """Questions numbered by (document, chapter): the integer the scan groups by."""
    return select(Question.id, Question.type, Question.void, Question.source_doc, Question.topic,
                  func.dense_rank().over(order_by=(Question.source_doc, Question.topic)).label("tk")).subquery()


def _response_code(dialect: str) -> str:
    """SQL turning the JSON response into an integer: one bit per option letter, or the 判断
    bits; 0 for a blank, a fill-in answer or anything else. Most responses are one letter
    ('"A"', three characters), which the first branch decodes without searching."""
    t = "CAST(ai.response AS TEXT)"
    if dialect == "postgresql":
        has = lambda s: f"(strpos({t}, '{s}') > 0)::int"  # noqa: E731
        one = f"(1 << (ascii(substr({t}, 2, 1)) - 65))"
    else:
        has = lambda s: f"(instr({t}, '{s}') > 0)"  # noqa: E731
        one = f"(1 << (unicode(substr({t}, 2, 1)) - 65))"
    letters = " + ".join(f"{has(chr(34) + c + chr(34))} * {1 << i}" for i, c in enumerate(LETTERS))
    return (f"CASE WHEN ai.response IS NULL THEN 0 WHEN {t} = 'true' THEN {TRUE_CODE} "
            f"WHEN {t} = 'false' THEN {FALSE_CODE} "
            f"WHEN length({t}) = 3 AND substr({t}, 2, 1) BETWEEN 'A' AND 'H' THEN {one} "
            f"WHEN substr({t}, 1, 1) = '[' THEN {letters} ELSE 0 END")


def _read_answers(round_ids: list[int]) -> np.ndarray:
    """Every answer of the counted attempts as records (a, q, pos, p, c)."""
    dialect = db.engine.dialect.name
    where = (f"a.round_id IN ({', '.join(str(int(i)) for i in round_ids)}) "
             "AND a.status != 'in_progress' AND a.invalidated_at IS NULL")
    columns = ("ai.attempt_id, ai.question_id, ai.position, COALESCE(ai.points, 0), " + _response_code(dialect))
    body = f"FROM attempt_item ai JOIN attempt a ON a.id = ai.attempt_id WHERE {where}"
    connection = db.session.connection().connection.driver_connection
    if dialect == "postgresql":
        sql = (f"COPY (SELECT ai.attempt_id::int4, ai.question_id::int4, ai.position::int4, "
               f"COALESCE(ai.points, 0)::float8, ({_response_code(dialect)})::int4 {body}) TO STDOUT (FORMAT BINARY)")
        chunks = []
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for chunk in copy:
                chunks.append(chunk)
        return _parse_binary_copy(b"".join(bytes(c) for c in chunks))
    rows = connection.execute(f"SELECT {columns} {body}")
    return np.fromiter(rows, dtype=np.dtype([("a", "i8"), ("q", "i8"), ("pos", "i8"), ("p", "f8"), ("c", "i8")]))


# PostgreSQL's binary COPY: an 19-byte header, then per row a 16-bit field count and, per field,
# a 32-bit length and the big-endian value; a 16-bit −1 ends the data. No field is NULL here.
_COPY_ROW = np.dtype([("n", ">i2"), ("la", ">i4"), ("a", ">i4"), ("lq", ">i4"), ("q", ">i4"), ("lpos", ">i4"),
                      ("pos", ">i4"), ("lp", ">i4"), ("p", ">f8"), ("lc", ">i4"), ("c", ">i4")])
_COPY_HEADER = 19


def _parse_binary_copy(data: bytes) -> np.ndarray:
    count = (len(data) - _COPY_HEADER - 2) // _COPY_ROW.itemsize
    rows = np.frombuffer(data, dtype=_COPY_ROW, count=count, offset=_COPY_HEADER)
    if count and not (rows["n"] == 5).all():
        raise RuntimeError("unexpected COPY layout")
    return rows


def decode_response(code: int, qtype: str):
    """The response a code stands for, in the canonical form of quizapp.scoring (None: blank)."""
    if code == 0:
        return None
    if qtype == "judge":
        return code == TRUE_CODE if code in (TRUE_CODE, FALSE_CODE) else None
    letters = [c for i, c in enumerate(LETTERS) if code & (1 << i)]
    if qtype == "single":
        return letters[0] if len(letters) == 1 else None
    return letters


def scan(rounds: list[Round]) -> Scan:
    """Read the rounds' counted answers once and sum them (see the module docstring)."""
    rounds = sorted(rounds, key=lambda r: r.id)
    round_index = {r.id: i for i, r in enumerate(rounds)}
    attempts = db.session.execute(
        select(Attempt.id, Attempt.round_id, func.coalesce(User.unit_id, 0), func.coalesce(Attempt.score, 0.0),
               Attempt.max_score).join(User, User.id == Attempt.user_id)
        .where(Attempt.round_id.in_(list(round_index)), Attempt.status != "in_progress",
               Attempt.invalidated_at.is_(None)).order_by(Attempt.id)).all()
    out = Scan()
    answers = _read_answers(list(round_index))
    if not attempts or not len(answers):
        return out
    a_id = np.array([row[0] for row in attempts], dtype=np.int64)
    a_round = np.array([round_index[row[1]] for row in attempts], dtype=np.int64)
    a_unit = np.array([row[2] for row in attempts], dtype=np.int64)
    a_score = np.array([float(row[3]) for row in attempts])
    a_max = np.array([float(row[4] or 0) for row in attempts])

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

    ai = np.searchsorted(a_id, answers["a"].astype(np.int64))
    q = answers["q"].astype(np.int64)
    p = answers["p"].astype(np.float64)
    code = answers["c"].astype(np.int64)
    pos = answers["pos"].astype(np.int64)
    rnd = a_round[ai]
    full = full_table[rnd, q_type[q]]
    valid = q_valid[q] & (full > EPS)
    x = np.where(valid, p / np.where(full > EPS, full, 1.0), 0.0)
    rest_max = a_max[ai] - full
    has_rest = valid & (rest_max > EPS)
    r = np.where(has_rest, (a_score[ai] - p) / np.where(rest_max > EPS, rest_max, 1.0), 0.0)

    out.cells = _cells(a_unit[ai], q_tk[q], x, valid)
    out.items = _item_sums(q, x, r, valid, has_rest, size)
    out.responses = _responses(q, code, valid, types)
    out.slots = _slots(rnd, pos, p, rounds)
    return out


def _cells(unit: np.ndarray, tk: np.ndarray, x: np.ndarray, valid: np.ndarray) -> list:
    units, unit_index = np.unique(unit[valid], return_inverse=True)
    width = int(tk.max()) + 1
    key = unit_index * width + tk[valid]
    n = np.bincount(key)
    sx = np.bincount(key, weights=x[valid])
    present = np.nonzero(n)[0]
    return [(int(units[k // width]), int(k % width), float(sx[k]), int(n[k])) for k in present]


def _item_sums(q, x, r, valid, has_rest, size) -> dict:
    """Per question: answers, Σx, and the sums of the answers that have a rest score — including
    Σ x_(k)·r_(k) with both sorted within the question, which sorting (question·2 + value) gives
    at once, since values lie in [0, 1]."""
    n = np.bincount(q[valid], minlength=size)
    sx = np.bincount(q[valid], weights=x[valid], minlength=size)
    qm, xm, rm = q[has_rest], x[has_rest], r[has_rest]
    sums = [np.bincount(qm, weights=w, minlength=size) for w in (None, xm, xm * xm, rm, rm * rm, xm * rm)]
    qs = np.sort(qm)
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


def _responses(q, code, valid, types: dict) -> dict:
    keys, counts = np.unique(q[valid] * 1024 + code[valid], return_counts=True)
    out: dict = {}
    for key, count in zip(keys.tolist(), counts.tolist()):
        question, value = divmod(key, 1024)
        if types.get(question) == "fill":
            continue
        out.setdefault(question, []).append((decode_response(value, types[question]), count))
    return out


def _slots(rnd, pos, p, rounds) -> list[dict]:
    width = int(pos.max()) + 1
    key = rnd * width + pos
    rows = np.bincount(key)
    sp = np.bincount(key, weights=p)
    spp = np.bincount(key, weights=p * p)
    return [{"rid": rounds[k // width].id, "pos": int(k % width), "rows": int(rows[k]), "sp": float(sp[k]),
             "spp": float(spp[k])} for k in np.nonzero(rows)[0]]
