"""The 体检 computed by the database agrees with the pure statistics, and follows corrections."""
import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import HealthReport, Question, Round, User
from quizapp.rules.statistics import item_analysis
from quizapp.services import ServiceError, corrections, health
from quizapp.services.attempts import save_response, start_attempt, submit_attempt
from quizapp.services.rounds import publish

from .test_attempts import correct_display

UNITS = ["甲单位", "乙单位", "丙单位"]
PEOPLE = 12


def pattern(person: int, item: int) -> bool:
    """Who gets which of the 7 questions right: stronger people (higher numbers) more often;
    item 0 is answered the other way round (as a wrong key would look)."""
    if item == 0:
        return person < 5
    return (person * 7 + item * 3) % 13 < person + item % 3


def wrong_display(item):
    q = item.question
    if q.type == "judge":
        return not q.answer
    wrong = next(key for key, _ in q.options if key != q.answer)  # the same wrong option for everyone
    return chr(ord("A") + item.option_order.index(wrong))


@pytest.fixture
def health_round(app, build, clock):
    """A closed, published round of 7 fixed questions (4 单选, 3 判断) taken by 12 people in 3 units."""
    build.bank()
    build.admin()
    for i in range(PEOPLE):
        build.participant(f"h{i:02d}", unit=UNITS[i % 3], name=f"人员{i}")
    round_id = build.round(sections=[{"type": "single", "count": 4}, {"type": "judge", "count": 3}],
                           draw_mode="fixed")
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        for i in range(PEOPLE):
            attempt = start_attempt(round_, db.session.scalar(select(User).filter_by(username=f"h{i:02d}")))
            order = sorted(attempt.items, key=lambda item: item.question_id)
            for j, item in enumerate(order):
                save_response(attempt, item.position, correct_display(item) if pattern(i, j) else wrong_display(item),
                              False)
            clock.advance(seconds=30)
            submit_attempt(attempt)
        round_.status = "closed"
        publish(round_)
        db.session.commit()
    return round_id


def expected_matrix():
    """The same answers as a people × questions matrix (all 1-point questions)."""
    return [[1.0 if pattern(i, j) else 0.0 for j in range(7)] for i in range(PEOPLE)]


def test_database_figures_equal_the_pure_statistics(app, health_round):
    with app.app_context():
        round_ = db.session.get(Round, health_round)
        payload = health.whole_report([round_])
        items = sorted(payload["items"], key=lambda item: item["id"])
    pure = item_analysis(expected_matrix(), [1.0] * 7)
    assert len(items) == 7
    for got, want in zip(items, pure):
        assert got["n"] == PEOPLE
        assert got["facility"] == pytest.approx(want.facility)
        assert got["discrimination"] == pytest.approx(want.discrimination)
        assert got["efficiency"] == pytest.approx(want.efficiency)
    assert "可能答案有误" in items[0]["flags"]  # the reversed item
    # County row = all answers; unit cells add up to it.
    county = sum(cells[0] for unit in payload["by_doc"].values() for cells in unit.values())
    assert county == pytest.approx(sum(map(sum, expected_matrix())))
    assert {u["name"]: u["took_part"] for u in payload["units"]} == {name: 4 for name in UNITS}
    paper = payload["papers"][0]
    assert paper["n"] == PEOPLE and paper["slots"] == 7 and sum(paper["histogram"]) == PEOPLE


def test_option_shares_and_most_chosen_wrong_answer(app, health_round):
    with app.app_context():
        payload = health.whole_report([db.session.get(Round, health_round)])
    for item in payload["items"]:
        wrong = round((1 - item["facility"]) * PEOPLE)
        if wrong:
            assert item["wrong"][1] == wrong  # everyone wrong chose the same wrong option
        assert sum(item["shares"].values()) == pytest.approx(1.0)


def test_report_is_kept_and_recomputed_after_a_correction(app, health_round):
    with app.app_context():
        round_ = db.session.get(Round, health_round)
        first = health.get_report([round_])
        answers_before, by_doc_before = first.payload["answers"], first.payload["by_doc"]
        kept_at, before = first.computed_at, {i["id"]: i for i in health.whole_report([round_])["items"]}
        assert health.get_report([round_]).computed_at == kept_at  # not computed per request
        reversed_item = min(before)
        question = db.session.get(Question, reversed_item)
        corrections.void_question(question, "drop", "题干有歧义")
        assert db.session.scalar(select(HealthReport)).stale
        after = health.whole_report([db.session.get(Round, health_round)])
    assert reversed_item not in {i["id"] for i in after["items"]}
    assert after["answers"] == answers_before - PEOPLE
    assert after["by_doc"] != by_doc_before


def test_a_rekey_moves_the_figures(app, health_round):
    with app.app_context():
        round_ = db.session.get(Round, health_round)
        before = {i["id"]: i["facility"] for i in health.whole_report([round_])["items"]}
        judge = next(q for q in db.session.scalars(select(Question).where(
            Question.type == "judge", Question.id.in_(list(before))).order_by(Question.id)) if before[q.id] != 0.5)
        judge_id = judge.id
        corrections.correct_key(judge, "错误" if judge.answer else "正确", "答案更正")
        after = {i["id"]: i["facility"] for i in health.whole_report([db.session.get(Round, health_round)])["items"]}
    assert after[judge_id] == pytest.approx(1 - before[judge_id])


def test_an_open_round_has_no_health_check(app, build):
    build.bank()
    round_id = build.round()
    with app.app_context():
        with pytest.raises(ServiceError):
            health.get_report([db.session.get(Round, round_id)])
    assert health.parse_round_ids("3,1,3") == [1, 3] and health.parse_round_ids("1,x") == []


def test_the_scan_adds_up_the_same_over_any_split_of_the_answers(app, health_round, monkeypatch):
    """The PostgreSQL scan sums the answers in parts (one per connection); any split by attempt
    must give the figures of one part — the sorted pairing of the efficiency included."""
    import numpy as np

    from quizapp.services import health_scan

    with app.app_context():
        rounds = [db.session.get(Round, health_round)]
        whole = health_scan.scan(rounds)
        db.session.rollback()
        read = health_scan._read

        def split_read(round_ids, attempt_ids, summed):
            collected = []
            read(round_ids, attempt_ids, lambda answers: collected.append(answers))  # 1 part, 2 on PostgreSQL
            answers = {name: np.concatenate([part[name] for part in collected]) for name in collected[0]}
            parts = []
            for low, high in ((0, attempt_ids[3]), (attempt_ids[3], attempt_ids[8]), (attempt_ids[8], 2**62)):
                keep = (answers["a"] >= low) & (answers["a"] < high)
                parts.append(summed({name: values[keep] for name, values in answers.items()}))
            return parts, read(round_ids, attempt_ids, lambda answers: None)[1]

        monkeypatch.setattr(health_scan, "_read", split_read)
        split = health_scan.scan(rounds)
    assert [c[:2] for c in split.cells] == [c[:2] for c in whole.cells]
    assert [c[2] for c in split.cells] == pytest.approx([c[2] for c in whole.cells])
    assert [c[3] for c in split.cells] == [c[3] for c in whole.cells]
    assert split.items.keys() == whole.items.keys()
    for question, (n, total, sums) in whole.items.items():
        assert split.items[question][:2] == (n, pytest.approx(total))
        assert list(vars(split.items[question][2]).values()) == pytest.approx(list(vars(sums).values()))
    assert split.slots == whole.slots and split.scores == whole.scores
