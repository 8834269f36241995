"""One pass of the database over a round's answers, grouped five ways at once.

A 50,000 × 100 round is five million answer rows, and on a two-core machine each pass over
them (with the joins to the attempt, the question and the person) costs seconds, so the 体检
makes four passes and no more, each one GROUP BY (PostgreSQL's GROUPING SETS would make one
pass, but it cannot aggregate in parallel and sorts five million rows per set: measured ten
times slower):

  cells      (unit, chapter)      Σx, answers                 → the heatmaps
  qlb        (question, level, r bin)  counts and Σx, Σx², Σr, Σr², Σxr → facility and
             discrimination (summed over bins), and count and Σr per 1 % of rest score
             (summed over levels) → the sorted pairing
  responses  (question, response) count                        → option shares, wrong answers
  slots      (round, position)    count, Σpoints, Σpoints²     → Cronbach's alpha by slot

x is the answer's points over its question's points in that round; r is the rest of the
person's paper as a fraction of its maximum; level is 0, partial or 1. Voided questions give
x = NULL (left out of everything but the slots, which use the stored points as scored).

The sorted pairing of discriminative efficiency (Σ x_(k) r_(k)) needs the rest scores in order:
from each question's bins, the sum of r over a band of ranks is exact except inside the one
bin a band boundary cuts, where the bin's mean stands in; rest scores are multiples of one
half-point over the paper's maximum, so a 1 % bin rarely holds two different values.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Float, Integer, Text, case, cast, func, select, text
from sqlalchemy import null as sa_null

from ..extensions import db
from ..models import Attempt, AttemptItem, Question, Round, User
from ..scoring import DEFAULT_POINTS
from .drawing import scoring_rules

EPS = 1e-9
AGGREGATES = ("n", "sx", "nr", "sxv", "sxxv", "sr", "srr", "sxr", "rows", "sp", "spp")


def topic_keys():
    """Questions numbered by (document, chapter): the integer the scan groups by, so the
    database hashes one integer per answer instead of two strings."""
    return select(Question.id, Question.type, Question.void, Question.source_doc, Question.topic,
                  func.dense_rank().over(order_by=(Question.source_doc, Question.topic)).label("tk")).subquery()


def _base(rounds: list[Round], with_unit: bool = True):
    qk = topic_keys()
    whens = [((Attempt.round_id == r.id) & (qk.c.type == t), scoring_rules(r).points_for(t))
             for r in rounds for t in DEFAULT_POINTS]
    full = case(*whens, else_=1.0)
    valid = qk.c.void.is_(None)
    points = cast(func.coalesce(AttemptItem.points, 0.0), Float)
    x = case((valid, points / full), else_=None)
    rest_max = Attempt.max_score - full
    r = case((valid & (rest_max > EPS), (func.coalesce(Attempt.score, 0.0) - points) / rest_max), else_=None)
    level = case((x <= EPS, 0), (x < 1 - EPS, 1), else_=2)
    response = case((valid & (qk.c.type != "fill"), cast(AttemptItem.response, Text)), else_=None)
    unit = User.unit_id if with_unit else sa_null()
    query = (select(unit.label("unit"), qk.c.tk, AttemptItem.question_id.label("q"), level.label("lvl"),
                   cast(func.round(r * 100), Integer).label("rbin"), response.label("resp"),
                   Attempt.round_id.label("rid"), AttemptItem.position.label("pos"), x.label("x"), r.label("r"),
                   points.label("p"))
            .select_from(AttemptItem).join(Attempt, Attempt.id == AttemptItem.attempt_id)
            .join(qk, qk.c.id == AttemptItem.question_id)
            .where(Attempt.round_id.in_([r.id for r in rounds]), Attempt.status != "in_progress",
                   Attempt.invalidated_at.is_(None)))
    if with_unit:
        query = query.join(User, User.id == Attempt.user_id)
    return query.subquery()


def _aggregates(b):
    xv = case((b.c.r.is_not(None), b.c.x), else_=None)
    return [func.count(b.c.x), func.sum(b.c.x), func.count(b.c.r), func.sum(xv), func.sum(xv * xv), func.sum(b.c.r),
            func.sum(b.c.r * b.c.r), func.sum(b.c.x * b.c.r), func.count(), func.sum(b.c.p), func.sum(b.c.p * b.c.p)]


def scan(rounds: list[Round], only: tuple[str, ...] | None = None) -> dict[str, list[dict]]:
    """{set name: [row dict with the set's keys and AGGREGATES]} (see the module docstring).

    One GROUP BY per set; "levels" and "bins" come from one grouping by (question, level,
    rest bin), summed in Python (a few hundred thousand rows at most). On PostgreSQL each
    statement runs as a parallel hash aggregate; JIT compilation is switched off for the
    transaction because compiling these expressions costs more than it saves."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    plans = {"cells": (("unit", "tk"), True), "qlb": (("q", "lvl", "rbin"), False),
             "responses": (("q", "resp"), False), "slots": (("rid", "pos"), False)}
    out: dict[str, list[dict]] = {}
    for name, (keys, with_unit) in plans.items():
        if only is not None and name not in only:
            out[name] = []
            continue
        b = _base(rounds, with_unit)
        columns = [b.c[k] for k in keys]
        out[name] = [{**dict(zip(keys, row[:len(keys)])), **_named(row[len(keys):])}
                     for row in db.session.execute(select(*columns, *_aggregates(b)).group_by(*columns))]
    out["levels"] = _sum_over(out["qlb"], ("q", "lvl"))
    out["bins"] = _sum_over(out["qlb"], ("q", "rbin"))
    return out


def _sum_over(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    merged: dict = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        entry = merged.setdefault(key, {**{k: row[k] for k in keys}, **{a: 0 for a in AGGREGATES}})
        for a in AGGREGATES:
            entry[a] += row[a]
    return list(merged.values())


def _named(values) -> dict:
    return {name: (float(v) if v is not None and name not in ("n", "nr", "rows") else (v or 0))
            for name, v in zip(AGGREGATES, values)}


def band_sum(bins: list[tuple[int, float]], start: int, stop: int) -> float:
    """Σ r over ranks start+1 … stop of the rest scores in ascending order, from (count, Σr) bins
    sorted by value (a bin cut by the band counts at its mean)."""
    total, seen = 0.0, 0
    for count, sr in bins:
        low, high = seen, seen + count
        overlap = min(high, stop) - max(low, start)
        if overlap > 0:
            total += sr * overlap / count
        seen = high
        if seen >= stop:
            break
    return total


def item_sums_by_question(levels: list[dict], bins: list[dict]) -> dict:
    """{question id: (answers, Σx over all answers, ItemSums over answers with a rest score)}."""
    from ..rules.statistics import ItemSums

    per_q: dict = defaultdict(lambda: {"n": 0, "sx": 0.0, "nr": 0, "sxv": 0.0, "sxxv": 0.0, "sr": 0.0, "srr": 0.0,
                                       "sxr": 0.0, "levels": {}})
    for row in levels:
        if not row["n"]:
            continue  # voided: no counted answers
        entry = per_q[row["q"]]
        for name in ("n", "sx", "nr", "sxv", "sxxv", "sr", "srr", "sxr"):
            entry[name] += row[name]
        entry["levels"][row["lvl"]] = (row["nr"], row["sxv"])
    ordered: dict = defaultdict(list)
    for row in sorted((r for r in bins if r["rbin"] is not None and r["nr"]), key=lambda r: (r["q"], r["rbin"])):
        ordered[row["q"]].append((row["nr"], row["sr"]))
    result = {}
    for q, e in per_q.items():
        n0, _ = e["levels"].get(0, (0, 0.0))
        n_half, s_half = e["levels"].get(1, (0, 0.0))
        mean_half = s_half / n_half if n_half else 0.0
        paired = (mean_half * band_sum(ordered[q], n0, n0 + n_half)
                  + band_sum(ordered[q], n0 + n_half, e["nr"]))
        result[q] = (e["n"], e["sx"], ItemSums(e["nr"], e["sxv"], e["sxxv"], e["sr"], e["srr"], e["sxr"], paired))
    return result
