"""Scoring one response (pure), with examples and properties."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizapp.scoring import ScoringRules, max_score, score_response
from quizapp.text import normalize_answer

RULES = ScoringRules(points={"single": 1, "multiple": 2, "judge": 1, "fill": 2})
PARTIAL = ScoringRules(points={"single": 1, "multiple": 2, "judge": 1, "fill": 2}, multiple_rule="partial")


@pytest.mark.parametrize("qtype, key, response, rules, expected", [
    ("single", "B", "B", RULES, 1), ("single", "B", "A", RULES, 0), ("single", "B", None, RULES, 0),
    ("judge", False, False, RULES, 1), ("judge", False, True, RULES, 0), ("judge", True, None, RULES, 0),
    ("judge", True, "true", RULES, 0),
    ("multiple", ["A", "C"], ["A", "C"], RULES, 2), ("multiple", ["A", "C"], ["A"], RULES, 0),
    ("multiple", ["A", "C"], ["A"], PARTIAL, 1), ("multiple", ["A", "C"], ["A", "B"], PARTIAL, 0),
    ("multiple", ["A", "C"], ["A", "B", "C"], PARTIAL, 0), ("multiple", ["A", "C"], [], PARTIAL, 0),
    ("fill", [["五年", "5年"]], ["５年"], RULES, 2), ("fill", [["五年", "5年"]], [" 五 年。"], RULES, 2),
    ("fill", [["五年", "5年"]], ["四年"], RULES, 0), ("fill", [["甲"], ["乙"]], ["甲", ""], RULES, 0),
    ("fill", [["ABC"]], ["ａｂｃ"], RULES, 2), ("fill", [["甲"], ["乙"]], ["甲"], RULES, 0),
])
def test_examples(qtype, key, response, rules, expected):
    assert score_response(qtype, key, response, rules) == expected


def test_max_score_and_rule_validation():
    assert max_score(["single", "multiple", "fill"], RULES) == 5
    with pytest.raises(ValueError):
        ScoringRules(multiple_rule="most")


letters = st.sets(st.sampled_from("ABCDE"), min_size=1)


@given(key=letters.filter(lambda s: len(s) >= 2), response=st.sets(st.sampled_from("ABCDE")),
       fraction=st.sampled_from([0.5, 0.25, 1 / 3]))
def test_multiple_choice_properties(key, response, fraction):
    partial = ScoringRules(points={"multiple": 3}, multiple_rule="partial", partial_fraction=fraction)
    strict = ScoringRules(points={"multiple": 3})
    got_partial = score_response("multiple", sorted(key), sorted(response), partial)
    got_strict = score_response("multiple", sorted(key), sorted(response), strict)
    assert 0 <= got_strict <= got_partial <= 3
    if response == key:
        assert got_strict == got_partial == 3
    elif response - key:  # any wrong option earns nothing under both rules
        assert got_partial == 0
    elif response:  # a proper, non-empty subset of the key
        assert got_partial == round(3 * fraction, 2) and got_strict == 0


FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@given(st.text(alphabet="0123456789abcXYZ监察委员会五年", min_size=1, max_size=12))
def test_fill_in_ignores_width_space_and_punctuation(text):
    variant = " ".join("".join(FULL_WIDTH.get(ch, ch) for ch in text)) + "。"
    assert normalize_answer(variant) == normalize_answer(text)
    assert score_response("fill", [[text]], [variant], RULES) == 2


@given(qtype=st.sampled_from(["single", "judge", "multiple", "fill"]),
       response=st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.lists(st.text(max_size=3), max_size=3)))
def test_any_response_scores_between_zero_and_full(qtype, response):
    key = {"single": "A", "judge": True, "multiple": ["A", "B"], "fill": [["甲"]]}[qtype]
    assert 0 <= score_response(qtype, key, response, PARTIAL) <= PARTIAL.points_for(qtype)


def test_item_score_after_voiding():
    from quizapp.scoring import item_score
    assert item_score("single", "A", None, "B", RULES) == (0, 1)
    assert item_score("single", "A", "award", "B", RULES) == (1, 1)
    assert item_score("multiple", ["A", "B"], "drop", ["A", "B"], RULES) == (0, 0)
