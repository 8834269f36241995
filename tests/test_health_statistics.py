"""Pure statistics of the 体检 against hand-computed small cases, and properties."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizapp.rules.statistics import (
    FLAG_EASY, FLAG_HARD, FLAG_KEY, Cell, accuracy_grid, county_row, cronbach_alpha, histogram, item_analysis,
    item_statistics, item_sums, most_chosen_wrong, option_shares, paper_statistics, weighted_mean,
)

# Four people, three 1-point items, everyone shown everything (a Guttman pattern).
MATRIX = [[1, 1, 1],
          [1, 1, 0],
          [1, 0, 0],
          [0, 0, 0]]


def test_facility_on_a_known_matrix():
    stats = item_analysis(MATRIX, [1, 1, 1])
    assert [s.facility for s in stats] == [0.75, 0.5, 0.25]


def test_discrimination_is_the_correlation_with_the_rest_of_the_paper():
    # Item 1: x = 1,1,1,0; rest (items 2+3 out of 2) = 1, .5, 0, 0.
    # mean x .75, mean r .375, cov = .375 − .28125 = .09375, var x .1875, var r .171875.
    item1, item2, _ = item_analysis(MATRIX, [1, 1, 1])
    assert item1.discrimination == pytest.approx(0.09375 / math.sqrt(0.1875 * 0.171875))
    assert item1.discrimination == pytest.approx(0.522233, abs=1e-6)
    # Item 2: x = 1,1,0,0; rest = 1, .5, .5, 0 → cov .125, var x .25, var r .125 → 1/√2.
    assert item2.discrimination == pytest.approx(1 / math.sqrt(2))
    # Both are as well ordered as their distributions allow: efficiency 1.
    assert item1.efficiency == pytest.approx(1.0)
    assert item2.efficiency == pytest.approx(1.0)


def test_discriminative_efficiency_divides_by_the_largest_covariance_possible():
    # x = 0,1,0,1 and r = 0,.25,1,.5 ... paired as given: Σxr/4 = .1875, mean x .5, mean r .4375
    # → cov −.03125; sorted pairing 0·0 + 0·.25 + 1·.5 + 1·1 = 1.5 → cov_max .375 − .21875 = .15625.
    stats = item_statistics(item_sums([0, 1, 0, 1], [0, 0.25, 1, 0.5]))
    assert stats.efficiency == pytest.approx(-0.2)
    assert stats.discrimination < 0


def test_rest_score_uses_only_the_questions_a_person_was_shown():
    # Person 3 was not shown item 1 (a random draw): item 1 is computed over persons 1, 2 and 4.
    matrix = [[1, 2, None], [0, 2, 1], [None, 0, 1], [1, None, 0]]
    first = item_analysis(matrix, [1, 2, 1])[0]
    # rests of item 1: p1 (2)/2 = 1, p2 (2+1)/3 = 1, p4 0/1 = 0; x = 1, 0, 1.
    expected = item_statistics(item_sums([1, 0, 1], [1, 1, 0]))
    assert first == expected and first.n == 3


def test_cronbach_alpha_on_a_known_matrix():
    # Item variances .1875 + .25 + .1875 = .625; totals 3, 2, 1, 0 have variance 1.25.
    # α = 3/2 · (1 − .625/1.25) = .75
    assert cronbach_alpha(MATRIX) == pytest.approx(0.75)
    assert cronbach_alpha([[1, 1], [1, 1]]) is None  # no spread: undefined, not a division by zero


def test_flags():
    # Twelve people; item 2's key is "wrong": the strong people miss it, the weak get it.
    strong, weak = [1, 0, 1], [0, 1, 0]
    stats = item_analysis([strong] * 6 + [weak] * 6, [1, 1, 1])
    assert FLAG_KEY in stats[1].flags
    easy = item_statistics(item_sums([1] * 39 + [0], [i / 40 for i in range(40)]))
    hard = item_statistics(item_sums([1] + [0] * 19, [i / 20 for i in range(20)]))
    assert FLAG_EASY in easy.flags and FLAG_HARD in hard.flags
    few = item_statistics(item_sums([1, 0, 0], [0, 1, 1]))
    assert few.flags == []  # too few people to judge


def test_paper_statistics_and_histogram():
    stats = paper_statistics([50, 70, 90])
    assert (stats.mean, stats.median, stats.sd) == (70, 70, pytest.approx(20))
    assert histogram([0, 9.9, 10, 100, 55]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert paper_statistics([]) is None


def test_option_shares_and_most_chosen_wrong():
    counts = [("A", 3), ("B", 1), (None, 1)]
    assert option_shares(counts, "single") == {"A": 0.6, "B": 0.2, "未作答": 0.2}
    assert most_chosen_wrong(counts, "A", "single") == ("B", 1)
    multiple = [(["A", "C"], 2), (["A"], 3), (["A", "B"], 1)]
    assert option_shares(multiple, "multiple") == {"A": 1.0, "B": 1 / 6, "C": 2 / 6}
    assert most_chosen_wrong(multiple, ["A", "C"], "multiple") == ("A", 3)
    assert most_chosen_wrong([(True, 4), (False, 1)], True, "judge") == ("错误", 1)


cells = st.tuples(st.integers(min_value=0, max_value=500), st.floats(min_value=0, max_value=1))


@settings(deadline=None)  # the machine is shared: timing is not what this tests
@given(st.dictionaries(st.integers(0, 30), st.dictionaries(st.sampled_from("ABCD"), cells, min_size=1), min_size=1))
def test_accuracy_in_unit_interval_and_county_is_weighted_mean(data):
    rows = [(unit, column, answers * share, answers) for unit, cols in data.items()
            for column, (answers, share) in cols.items()]
    grid = accuracy_grid(rows)
    county = county_row(grid)
    for unit_cells in grid.values():
        for cell in unit_cells.values():
            assert cell.accuracy is None or 0 <= cell.accuracy <= 1
    for column, cell in county.items():
        units = [(c[column].accuracy, c[column].answers) for c in grid.values()
                 if column in c and c[column].answers]
        expected = weighted_mean(units)
        if expected is None:
            assert cell.accuracy is None
        else:
            assert 0 <= cell.accuracy <= 1
            assert cell.accuracy == pytest.approx(expected)


@settings(deadline=None)
@given(st.floats(min_value=-10, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=1000))
def test_a_cell_never_leaves_the_unit_interval(total, answers):
    accuracy = Cell(total, answers).accuracy
    assert accuracy is None or 0 <= accuracy <= 1
