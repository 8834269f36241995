"""The database ranks exactly as the pure ranking rules do (quizapp.ranking)."""
import random
from datetime import timedelta

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Round, Unit, User
from quizapp.ranking import Result, rank_individuals
from quizapp.services.results import individual_count, individual_leaderboard

from .conftest import START


def test_sql_ranks_match_the_pure_rules_with_many_ties(app, ctx, build, clock):
    build.bank()
    round_id = build.round()
    rng = random.Random(7)
    units = [Unit(name=f"单位{i}", group_name="乡镇" if i % 2 else "县直部门") for i in range(5)]
    db.session.add_all(units)
    for i in range(240):
        user = User(username=f"u{i:03d}", name=f"人{i}", role="participant", unit=rng.choice(units), password_hash="x")
        db.session.add(user)
        db.session.flush()
        submitted = START + timedelta(minutes=rng.randrange(3))
        db.session.add(Attempt(round_id=round_id, user_id=user.id, status="submitted", started_at=START,
                               deadline_at=START + timedelta(hours=1), submitted_at=submitted,
                               score=float(rng.randrange(4)), max_score=3, time_used=rng.randrange(3),
                               invalidated_at=START if i % 37 == 0 else None))
    db.session.commit()
    attempts = db.session.scalars(select(Attempt)).all()
    expected = {r.key: rank for rank, r in rank_individuals(
        [Result(a.id, a.score, a.time_used, a.submitted_at) for a in attempts if a.invalidated_at is None])}
    round_ = db.session.get(Round, round_id)
    rows = individual_leaderboard(round_)
    assert {row.attempt_id: row.rank for row in rows if row.rank is not None} == expected
    assert [row.rank is None for row in rows] == sorted(row.rank is None for row in rows)  # invalidated last
    assert sum(row.rank is None for row in rows) == 7 and all(r.status == "已作废" for r in rows if r.rank is None)
    page = individual_leaderboard(round_, offset=100, limit=50)
    assert [r.attempt_id for r in page] == [r.attempt_id for r in rows[100:150]]
    town = individual_leaderboard(round_, group="乡镇")
    assert individual_count(round_, "乡镇") == len(town) and {r.rank for r in town} <= {r.rank for r in rows}
