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


def _grouped_pool():
    """Singles 1–12 where 1–6 form three groups of two (a near-duplicate or give-away pair)."""
    return [PoolQuestion(i, "single", "总则", 1, "jianchafa-2024", ("A", "B", "C", "D"), f"q{i}",
                         group=f"g{(i + 1) // 2}" if i <= 6 else "") for i in range(1, 13)]


@pytest.mark.parametrize("avoid", [frozenset(), frozenset({"q7", "q8"})])
def test_two_questions_of_one_group_never_share_a_paper(avoid):
    pool = _grouped_pool()
    group_of = {q.id: q.group for q in pool}
    for seed in range(300):
        paper = draw_paper([Section("single", 5), Section("single", 4)], pool, f"s{seed}", f"s{seed}", avoid)
        groups = [group_of[item.question_id] for item in paper if group_of[item.question_id]]
        assert len(groups) == len(set(groups)), (seed, groups)
        assert len(paper) == 9


def test_groups_count_once_in_availability():
    pool = _grouped_pool()
    # 12 questions but only 3 + 6 = 9 can share a paper.
    assert check_rules([Section("single", 9)], pool) == []
    assert check_rules([Section("single", 10)], pool) == ["第 1 组（单选题，需要 10 道）只有 9 道可用题目"]


def _versioned_pool():
    """监察法 in two versions (2018 superseded) and 宪法 in force."""
    def q(i, doc, in_force, document):
        return PoolQuestion(i, "single", "总则", 1, doc, ("A", "B", "C", "D"), f"q{i}", in_force=in_force, document=document,
                            edition=doc[-4:])
    return ([q(i, "jianchafa-2018", False, "监察法") for i in range(1, 11)]
            + [q(i, "jianchafa-2024", True, "监察法") for i in range(11, 21)]
            + [q(i, "xianfa-2018", True, "宪法") for i in range(21, 31)])


def test_default_rules_draw_only_versions_in_force():
    from quizapp.papers import version_problems

    pool = _versioned_pool()
    docs = {q.id: q.doc for q in pool}
    for seed in range(50):
        paper = draw_paper([Section("single", 20)], pool, f"s{seed}", f"s{seed}")
        assert {docs[i.question_id] for i in paper} <= {"jianchafa-2024", "xianfa-2018"}
    assert check_rules([Section("single", 21)], pool) == ["第 1 组（单选题，需要 21 道）只有 20 道可用题目"]
    assert version_problems([Section("single", 20)], pool) == []


def test_a_superseded_version_needs_the_explicit_choice_and_mixing_a_second_one():
    from quizapp.papers import version_problems

    pool = _versioned_pool()
    old_only = [Section("single", 5, doc="jianchafa-2018"), Section("single", 5, doc="xianfa-2018")]
    assert "允许抽取已失效的版本" in version_problems(old_only, pool)[0]
    assert check_rules(old_only, pool)[0].startswith("第 1 组（单选题，需要 5 道）只有 0 道")
    chosen = [Section("single", 5, doc="jianchafa-2018", include_superseded=True), Section("single", 5, doc="xianfa-2018")]
    assert version_problems(chosen, pool) == [] and check_rules(chosen, pool) == []
    # Every version of every document: 2018 and 2024 《监察法》 would share a paper.
    everything = [Section("single", 10, include_superseded=True)]
    problems = version_problems(everything, pool)
    assert len(problems) == 1 and "《监察法》的不同版本（2018年版、2024年版）" in problems[0]
    assert version_problems(everything, pool, allow_mixed=True) == []
