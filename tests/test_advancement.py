"""Advancement rules and prize cut-offs (pure)."""
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizapp.advancement import Candidate, Rule, preview
from quizapp.prizes import award, cutoffs

T0 = datetime(2026, 5, 8, 1, 0)


def cand(key, unit, score, used=600, minute=0, invalid=False):
    return Candidate(key, key, unit, score, used, T0 + timedelta(minutes=minute), invalid)


PEOPLE = [
    cand("a1", "甲", 95), cand("a2", "甲", 90), cand("a3", "甲", 88),
    cand("b1", "乙", 70), cand("b2", "乙", 60),
    cand("c1", "丙", 89), cand("c2", "丙", 89), cand("c3", "丙", 50),
    cand("x", "乙", 99, invalid=True),
]


def qualified(decisions):
    return {d.candidate.key for d in decisions if d.qualified}


def test_top_n_with_a_tie_at_the_line_takes_everyone_tied():
    decisions = preview(PEOPLE, Rule(top_n=3))
    assert qualified(decisions) == {"a1", "a2", "c1", "c2"}
    tied = next(d for d in decisions if d.candidate.key == "c2")
    assert tied.rank == 3 and "并列" in tied.reason
    assert "未达晋级条件" in next(d for d in decisions if d.candidate.key == "a3").reason


def test_best_k_per_unit_then_fill_to_n():
    decisions = preview(PEOPLE, Rule(per_unit=1, fill_to=5))
    assert qualified(decisions) == {"a1", "b1", "c1", "c2", "a2"}
    filled = next(d for d in decisions if d.candidate.key == "a2")
    assert "递补" in filled.reason
    assert "本单位第 1 名" in next(d for d in decisions if d.candidate.key == "c2").reason


def test_score_line_and_invalidated_attempts():
    decisions = preview(PEOPLE, Rule(min_score=89))
    assert qualified(decisions) == {"a1", "a2", "c1", "c2"}
    invalid = next(d for d in decisions if d.candidate.key == "x")
    assert not invalid.qualified and "作废" in invalid.reason
    assert Rule(min_score=89).describe() == "得分不低于 89 分"


def test_rule_round_trip():
    rule = Rule.from_dict({"top_n": "60", "per_unit": "2", "min_score": "", "fill_to": None})
    assert rule == Rule(top_n=60, per_unit=2) and Rule.from_dict(rule.to_dict()) == rule
    assert rule.describe() == "每单位前 2 名，或总排名前 60 名"


people_strategy = st.lists(
    st.builds(cand, key=st.uuids().map(str), unit=st.sampled_from("甲乙丙"), score=st.integers(0, 5).map(float),
              used=st.integers(0, 2)),
    max_size=25,
)


@given(people_strategy, st.integers(1, 10), st.integers(1, 3))
def test_properties_of_top_n_and_per_unit(people, n, k):
    by_top = preview(people, Rule(top_n=n))
    chosen = [d for d in by_top if d.qualified]
    assert len(chosen) >= min(n, len(people))
    if chosen:  # nobody left out ranks at or above anyone chosen
        worst = max(d.rank for d in chosen)
        assert all(d.rank > worst for d in by_top if not d.qualified)
    by_unit = preview(people, Rule(per_unit=k))
    for unit in "甲乙丙":
        members = [d for d in by_unit if d.candidate.unit == unit]
        assert sum(d.qualified for d in members) >= min(k, len(members))


@pytest.mark.parametrize("setting, ranks, expected", [
    ({"mode": "counts", "一等奖": 1, "二等奖": 2, "三等奖": 3}, [1, 2, 2, 4, 5, 6, 7], ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", "三等奖", ""]),
    ({"mode": "counts", "一等奖": 1, "二等奖": 1}, [1, 1, 3], ["一等奖", "一等奖", ""]),
    ({"mode": "ranks", "一等奖": 2, "优秀奖": 5}, [1, 3, 5, 6, None], ["一等奖", "优秀奖", "优秀奖", "", ""]),
])
def test_prizes(setting, ranks, expected):
    assert [award(rank, setting) for rank in ranks] == expected


def test_rank_cutoffs_must_increase():
    with pytest.raises(ValueError):
        cutoffs({"mode": "ranks", "一等奖": 5, "二等奖": 3})


def test_top_units_narrows_the_field_to_the_best_units():
    decisions = preview(PEOPLE, Rule(per_unit=2, top_units=1), unit_ranks={"甲": 1, "丙": 2, "乙": 3})
    assert qualified(decisions) == {"a1", "a2"}
    assert "不在单位排名前 1 名" in next(d for d in decisions if d.candidate.key == "c1").reason
    assert Rule(per_unit=3, top_units=8).describe() == "单位排名前 8 的单位中：每单位前 3 名"
