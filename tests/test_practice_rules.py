"""Pure rules of practice: the 错题本's Leitner boxes, the 每日一练 draw, the week."""
from datetime import datetime

import pytest

from quizapp.rules.practice import MASTERED_BOX, Box, daily_pick, in_book, missed_in_round, review, weakness, week_start


def test_wrong_answer_enters_box_zero_whatever_it_was():
    assert review(None, False, 1) == Box(0, 1)
    assert review(Box(1, 1), False, 2) == Box(0, 2)
    assert review(Box(MASTERED_BOX, 3), False, 4) == Box(0, 4)  # a question that had left comes back


def test_two_right_answers_in_later_sessions_take_it_out():
    entry = review(None, False, 1)
    entry = review(entry, True, 2)
    assert entry == Box(1, 2) and in_book(entry)
    entry = review(entry, True, 3)
    assert entry == Box(MASTERED_BOX, 3) and not in_book(entry)


def test_right_in_the_session_that_last_moved_it_does_not_count():
    entry = Box(0, 5)
    assert review(entry, True, 5) is entry
    up = review(entry, True, 6)
    assert up == Box(1, 6)
    assert review(up, True, 6) is up  # twice in one session counts once


def test_right_answer_on_a_question_not_in_the_book_changes_nothing():
    assert review(None, True, 1) is None
    left = Box(MASTERED_BOX, 2)
    assert review(left, True, 3) is left


def test_a_round_miss_counts_from_the_next_practice_session():
    entry = missed_in_round(None)
    assert entry == Box(0, None)
    assert review(entry, True, 1) == Box(1, 1)


@pytest.mark.parametrize("right,answered,expected", [(0, 0, 0.5), (0, 1, 1 / 3), (9, 10, 10 / 12), (1, 1, 2 / 3)])
def test_weakness_is_laplace_smoothed_accuracy(right, answered, expected):
    assert weakness(right, answered) == pytest.approx(expected)


CHAPTERS = {"a": [1, 2, 3, 4], "b": [5, 6, 7], "c": [8, 9], "d": [10, 11, 12, 13, 14]}


def test_daily_pick_is_reproducible_per_seed():
    stats = {"a": (5, 5), "b": (0, 3)}
    first = daily_pick(CHAPTERS, stats, "7:2026-05-08", 10)
    assert first == daily_pick(CHAPTERS, stats, "7:2026-05-08", 10)
    assert len(first) == 10 and len(set(first)) == 10
    others = {tuple(daily_pick(CHAPTERS, stats, f"7:2026-05-{d:02d}", 10)) for d in range(1, 11)}
    assert len(others) > 1  # another day, another set


def test_daily_pick_takes_the_weakest_chapters_first_and_covers_each_before_repeating():
    stats = {"a": (9, 10), "b": (0, 4), "c": (2, 4), "d": (5, 6)}  # b weakest, then c, d (unseen none), a strongest
    picked = daily_pick(CHAPTERS, stats, "s", 4)
    chapter = {q: k for k, ids in CHAPTERS.items() for q in ids}
    assert [chapter[q] for q in picked] == ["b", "c", "d", "a"]
    assert [chapter[q] for q in daily_pick(CHAPTERS, stats, "s", 6)][4:] == ["b", "c"]


def test_daily_pick_takes_booked_questions_first_within_a_chapter_and_stops_when_the_pool_ends():
    picked = daily_pick({"a": [1, 2, 3], "b": [4]}, {"a": (0, 5)}, "x", 10, booked=frozenset({3}))
    assert picked[0] == 3 and sorted(picked) == [1, 2, 3, 4]


def test_week_starts_on_monday_midnight():
    assert week_start(datetime(2026, 5, 8, 9, 30)) == datetime(2026, 5, 4)  # a Friday
    assert week_start(datetime(2026, 5, 4, 0, 0)) == datetime(2026, 5, 4)
    assert week_start(datetime(2026, 5, 10, 23, 59)) == datetime(2026, 5, 4)
