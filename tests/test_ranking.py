"""Ranking individuals and units (pure), with examples and properties."""
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from quizapp.ranking import Result, UnitInput, rank_individuals, rank_units

T0 = datetime(2026, 5, 8, 1, 0)


def r(key, score, used, minute):
    return Result(key, score, used, T0 + timedelta(minutes=minute))


def test_individual_tie_rules():
    results = [r("late", 90, 600, 30), r("slow", 90, 700, 1), r("fast", 90, 500, 40),
               r("twin-a", 80, 600, 5), r("twin-b", 80, 600, 5), r("last", 70, 100, 1)]
    ranked = [(rank, res.key) for rank, res in rank_individuals(results)]
    assert ranked[:3] == [(1, "fast"), (2, "late"), (3, "slow")]
    assert {k for rank, k in ranked if rank == 4} == {"twin-a", "twin-b"}
    assert ranked[-1] == (6, "last")


def test_units_by_mean_sum_and_best_k_with_idle_units_last():
    # 甲 and 丁 tie on the mean and on participation (2/4, 1/2): same rank, listed by name.
    units = [UnitInput(1, "甲", 4, (90, 80)), UnitInput(2, "乙", 4, (100, 40, 40)),
             UnitInput(3, "丙", 3, ()), UnitInput(4, "丁", 2, (85,))]
    by_mean = rank_units(units)
    assert [(u.name, u.rank, u.value) for u in by_mean] == [("丁", 1, 85), ("甲", 1, 85), ("乙", 3, 60), ("丙", None, None)]
    assert by_mean[0].participation == 0.5 and by_mean[-1].took_part == 0
    assert [u.name for u in rank_units(units, "sum")][:3] == ["乙", "甲", "丁"]
    best2 = rank_units(units, "best_k", 2)
    assert [(u.name, u.value) for u in best2] == [("甲", 85), ("乙", 70), ("丁", 42.5), ("丙", None)]


results_strategy = st.lists(
    st.builds(Result, key=st.uuids(), score=st.integers(0, 5).map(float), time_used=st.integers(0, 3),
              submitted_at=st.integers(0, 2).map(lambda m: T0 + timedelta(minutes=m))),
    max_size=30,
)


@given(results_strategy, st.randoms())
def test_individual_rank_is_one_plus_number_strictly_ahead(results, rnd):
    shuffled = list(results)
    rnd.shuffle(shuffled)
    ranked = rank_individuals(shuffled)
    order = lambda x: (-x.score, x.time_used, x.submitted_at)  # noqa: E731
    for rank, res in ranked:
        assert rank == 1 + sum(order(other) < order(res) for other in results)
    assert [rank for rank, _ in ranked] == sorted(rank for rank, _ in ranked)
    assert sorted(map(str, (res.key for _, res in ranked))) == sorted(map(str, (x.key for x in results)))


units_strategy = st.lists(
    st.builds(UnitInput, key=st.uuids(), name=st.text(min_size=1, max_size=4), registered=st.integers(1, 6),
              scores=st.lists(st.integers(0, 10).map(float), max_size=5).map(tuple)),
    max_size=15,
)


@given(units_strategy, st.sampled_from(["mean", "sum", "best_k"]))
def test_every_unit_listed_and_idle_units_last(units, method):
    rows = rank_units(units, method, 2)
    assert len(rows) == len(units)
    ranked = [row for row in rows if row.rank is not None]
    assert rows[: len(ranked)] == ranked and all(row.took_part == 0 for row in rows[len(ranked):])
    for row in ranked:
        assert row.rank == 1 + sum(other.value > row.value for other in ranked)
