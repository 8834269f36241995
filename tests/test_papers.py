"""Drawing papers (pure)."""
import pytest

from quizapp.papers import PaperRuleError, PoolQuestion, Section, check_rules, draw_paper

POOL = [PoolQuestion(i, t, "总则", 1 + i % 3, "jianchafa-2018" if i % 2 else "xianfa-2018",
                     ("A", "B", "C", "D") if t in ("single", "multiple") else ())
        for i, t in enumerate(["single"] * 30 + ["multiple"] * 15 + ["judge"] * 20 + ["fill"] * 5, start=1)]
RULES = [Section("single", 10), Section("multiple", 5), Section("judge", 8), Section("fill", 2)]


def test_same_seed_same_paper_and_sections_in_order():
    first = draw_paper(RULES, POOL, "round:7", "round:7")
    assert first == draw_paper(RULES, list(reversed(POOL)), "round:7", "round:7")
    types = [next(q.type for q in POOL if q.id == item.question_id) for item in first]
    assert types == ["single"] * 10 + ["multiple"] * 5 + ["judge"] * 8 + ["fill"] * 2
    assert len({item.question_id for item in first}) == 25


def test_random_draws_differ_per_person_fixed_papers_share_questions():
    a = draw_paper(RULES, POOL, "r:1", "r:1")
    b = draw_paper(RULES, POOL, "r:2", "r:2")
    assert {i.question_id for i in a} != {i.question_id for i in b}
    fixed_a = draw_paper(RULES, POOL, "r", "r:1")
    fixed_b = draw_paper(RULES, POOL, "r", "r:2")
    assert {i.question_id for i in fixed_a} == {i.question_id for i in fixed_b}
    assert [i.question_id for i in fixed_a] != [i.question_id for i in fixed_b]


def test_options_of_choice_questions_are_permutations():
    paper = draw_paper(RULES, POOL, "r:1", "r:1")
    orders = [item.option_order for item in paper if item.option_order]
    assert all(sorted(order) == ["A", "B", "C", "D"] for order in orders)
    assert any(order != ("A", "B", "C", "D") for order in orders)
    assert all(item.option_order == () for item in paper[15:])


def test_filters_and_shortfalls():
    narrow = [Section("single", 5, doc="xianfa-2018", difficulty=2)]
    paper = draw_paper(narrow, POOL, "s", "s")
    chosen = [q for q in POOL if q.id in {i.question_id for i in paper}]
    assert all(q.doc == "xianfa-2018" and q.difficulty == 2 for q in chosen)
    assert check_rules([Section("fill", 6)], POOL) == ["第 1 组（填空题，需要 6 道）只有 5 道可用题目"]
    with pytest.raises(PaperRuleError) as info:
        draw_paper([Section("single", 20), Section("single", 20)], POOL, "s", "s")
    assert "第 2 组" in str(info.value)


def test_avoiding_seen_questions_where_the_pool_allows():
    pool = [PoolQuestion(q.id, q.type, q.topic, q.difficulty, q.doc, q.option_keys, f"q{q.id}") for q in POOL]
    seen = frozenset(f"q{i}" for i in range(1, 21))  # 20 of the 30 single-choice questions
    paper = draw_paper([Section("single", 10), Section("fill", 3)], pool, "r:1", "r:1", avoid=seen)
    singles = [i.question_id for i in paper[:10]]
    assert all(i > 20 for i in singles)  # exactly the 10 unseen ones
    short = draw_paper([Section("single", 15)], pool, "r:1", "r:1", avoid=seen)
    assert len({i.question_id for i in short}) == 15  # not enough unseen: falls back to all
