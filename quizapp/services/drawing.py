"""Which paper each person (or shared-paper team) gets in a round, drawn ahead of time.

Opening a round draws every paper at once (`prepare_papers`), so that at the 9:00 start
pressing 开始 costs one read and two inserts instead of a draw (`prepared`,
`copy_prepared_items`). A start that finds no
prepared paper (someone added after the round opened) draws it then, with the same seeds,
so where a paper is drawn never changes which paper it is.

A paper here is a list of (question id, bank option letters in the order shown) by
position, and its maximum score.
"""
from __future__ import annotations

from sqlalchemy import case, delete, func, insert, select, text

from ..extensions import db
from ..models import Attempt, AttemptItem, Bank, PreparedPaper, Question, Round, Team, User
from ..papers import Drawer, PaperRuleError, PoolQuestion, Section
from ..scoring import ScoringRules, max_score
from . import ServiceError, entry

Paper = tuple[list[tuple[int, list[str]]], float]

_POOL_CACHE: dict[str, tuple] = {}


def scoring_rules(round_: Round) -> ScoringRules:
    return ScoringRules(points=dict(round_.points), multiple_rule=round_.multiple_rule,
                        partial_fraction=round_.partial_fraction)


def question_pool() -> list[PoolQuestion]:
    """Every question that new papers may use: current versions, not disabled or voided.

    Kept per process and reused while a cheap fingerprint of the question table (row count,
    newest id, disabled and voided counts) is unchanged: decoding the pool for every draw
    was most of a draw's cost. Any import, disabling or correction changes the fingerprint."""
    usable = (Question.is_current.is_(True), Question.disabled.is_(False), Question.void.is_(None))
    fingerprint = tuple(db.session.execute(
        select(func.count(), func.max(Question.id), func.count(Question.void),
               func.sum(case((Question.disabled.is_(True), 1), else_=0)))
    ).one()) + tuple(db.session.execute(  # a bank's version can be marked superseded on re-import
        select(func.count(), func.sum(case((Bank.in_force.is_(True), 1), else_=0)))).one())
    cached = _POOL_CACHE.get(str(db.engine.url))
    if cached and cached[0] == fingerprint:
        return cached[1]
    rows = db.session.execute(
        select(Question.id, Question.type, Question.topic, Question.difficulty, Question.source_doc,
               Question.options, Question.qid, Question.draw_group, Bank.in_force, Bank.document, Bank.version)
        .join(Bank, Bank.id == Question.bank_id).where(*usable)
    )
    pool = [PoolQuestion(r.id, r.type, r.topic, r.difficulty, r.source_doc,
                         tuple(key for key, _ in r.options), r.qid, r.draw_group or "", r.in_force,
                         r.document or r.source_doc, r.version or "") for r in rows]
    _POOL_CACHE[str(db.engine.url)] = (fingerprint, pool)
    return pool


def _draw(round_: Round, drawer: Drawer, types: dict[int, str], person_key: str,
          avoid: frozenset[str]) -> Paper:
    """One paper by the round's seeds: per person for a random draw, the round's for a fixed one."""
    person_seed = f"{round_.seed}:{person_key}"
    paper_seed = person_seed if round_.draw_mode == "random" else round_.seed
    try:
        paper = drawer.draw(paper_seed, person_seed, avoid)
    except PaperRuleError as exc:
        raise ServiceError(f"题库不足，无法组卷：{exc}") from exc
    items = [(p.question_id, list(p.option_order)) for p in paper]
    return items, max_score([types[q] for q, _ in items], scoring_rules(round_))


def _drawer(round_: Round, pool: list[PoolQuestion] | None) -> tuple[Drawer, dict[int, str]]:
    pool = pool if pool is not None else question_pool()
    return Drawer([Section.from_dict(s) for s in round_.rules], pool), {q.id: q.type for q in pool}


def prepared(round_: Round, user: User, team: Team | None):
    """The (id, max_score) of the paper prepared for `user` (or their shared-paper `team`)
    when the round opened, or None."""
    return db.session.execute(
        select(PreparedPaper.id, PreparedPaper.max_score).where(
            PreparedPaper.round_id == round_.id,
            PreparedPaper.team_id == team.id if team else PreparedPaper.user_id == user.id)
    ).first()


def draw_now(round_: Round, user: User, team: Team | None, pool: list[PoolQuestion] | None = None) -> Paper:
    """The paper of `user` (or of their shared-paper `team`) drawn now, exactly as opening the
    round would have drawn it. Raises ServiceError when the banks fall short."""
    drawer, types = _drawer(round_, pool)
    avoid = entry.seen_qids(round_, user) if round_.avoid_seen and not team else frozenset()
    return _draw(round_, drawer, types, f"team{team.id}" if team else str(user.id), avoid)


def insert_items(attempt_id: int, items: list[tuple[int, list[str]]]) -> None:
    """Write a paper's items for a new attempt in one statement. No commit."""
    db.session.execute(insert(AttemptItem), [
        {"attempt_id": attempt_id, "position": i, "question_id": q, "option_order": order, "flagged": False}
        for i, (q, order) in enumerate(items, start=1)])


# Copying a prepared paper's items inside the database: one statement, and none of its 50
# rows pass through Python at the 9:00 start. The JSON functions differ by database.
_COPY_PREPARED = {
    "postgresql": text(
        "INSERT INTO attempt_item (attempt_id, position, question_id, option_order, flagged) "
        "SELECT :attempt, t.n, (t.item->>0)::int, t.item->1, false "
        "FROM prepared_paper, json_array_elements(prepared_paper.items) WITH ORDINALITY AS t(item, n) "
        "WHERE prepared_paper.id = :paper"),
    "sqlite": text(
        "INSERT INTO attempt_item (attempt_id, position, question_id, option_order, flagged) "
        "SELECT :attempt, j.key + 1, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), 0 "
        "FROM prepared_paper, json_each(prepared_paper.items) AS j WHERE prepared_paper.id = :paper"),
}


def copy_prepared_items(attempt_id: int, paper_id: int) -> None:
    """Write the items of prepared paper `paper_id` for a new attempt. No commit."""
    db.session.execute(_COPY_PREPARED[db.engine.dialect.name], {"attempt": attempt_id, "paper": paper_id})


# Drawing takes about 0.5 s per 1,000 papers on a 2-core server: opening a round for the
# whole county (48,000 members) would outlast a web request, so the organizer's page opens a
# round above quizapp.jobs.rounds.INLINE_MAX people with a background job (`draw_papers` with
# progress, then `insert_papers`). Called inline above MAX_PREPARED (as `redraw_without` may be),
# `prepare_papers` draws nothing and such papers are drawn at each 开始.
MAX_PREPARED = 20_000


def prepare_papers(round_: Round) -> int:
    """Draw the paper of everyone who may take `round_` and has neither an attempt nor a
    prepared paper yet (each team's, in a shared-paper team round). No commit. Returns the
    number drawn: 0 for a round open to more than MAX_PREPARED people. Raises ServiceError
    when the banks fall short."""
    if eligible_count(round_) > MAX_PREPARED:
        return 0
    return insert_papers(draw_papers(round_))


def eligible_count(round_: Round) -> int:
    return db.session.scalar(entry.eligible_people(round_).with_only_columns(func.count()))


def draw_papers(round_: Round, progress=None) -> list[dict]:
    """The prepared_paper rows still to draw for `round_` (see `prepare_papers`), drawn in
    memory: nothing is written. `progress(done, total)` is called every 1,000 papers."""
    drawer, types = _drawer(round_, None)
    if round_.team_scoring == "shared":
        done = set(db.session.scalars(select(PreparedPaper.team_id).where(PreparedPaper.round_id == round_.id)))
        done |= set(db.session.scalars(select(Attempt.team_id).where(Attempt.round_id == round_.id)))
        keys = [("team_id", t, f"team{t}", frozenset()) for t in db.session.scalars(
            select(Team.id).where(Team.round_id == round_.id).order_by(Team.id)) if t not in done]
    else:
        done = set(db.session.scalars(select(PreparedPaper.user_id).where(PreparedPaper.round_id == round_.id)))
        done |= set(db.session.scalars(select(Attempt.user_id).where(Attempt.round_id == round_.id)))
        people = [u for u in db.session.scalars(entry.eligible_people(round_).with_only_columns(User.id)
                                                .order_by(User.id)) if u not in done]
        seen = entry.seen_by_person(round_) if round_.avoid_seen else {}
        keys = [("user_id", u, str(u), seen.get(u, frozenset())) for u in people]
    rows = []
    for count, (column, key, person_key, avoid) in enumerate(keys, start=1):
        items, top = _draw(round_, drawer, types, person_key, avoid)
        rows.append({"round_id": round_.id, column: key, "items": items, "max_score": top})
        if progress and (count % 1000 == 0 or count == len(keys)):
            progress(count, len(keys))
    return rows


def insert_papers(rows: list[dict]) -> int:
    """Insert drawn prepared_paper rows in bounded statements. No commit."""
    for start in range(0, len(rows), 1000):  # bounded statement size on both databases
        db.session.execute(insert(PreparedPaper), rows[start:start + 1000])
    return len(rows)


def redraw_without(question_id: int) -> int:
    """After question `question_id` was disabled: draw again the prepared papers of open rounds
    that contain it (nobody has started them, so nobody has seen them). No commit. Returns
    how many were drawn again."""
    db.session.flush()  # the pool must see the question disabled
    rows = db.session.execute(select(PreparedPaper.id, PreparedPaper.round_id, PreparedPaper.items)
                              .join(Round, Round.id == PreparedPaper.round_id).where(Round.status == "open")).all()
    stale = [row for row in rows if any(q == question_id for q, _ in row.items)]
    if stale:
        db.session.execute(delete(PreparedPaper).where(PreparedPaper.id.in_([row.id for row in stale])))
        for round_id in sorted({row.round_id for row in stale}):
            prepare_papers(db.session.get(Round, round_id))
    return len(stale)
