"""Importing banks: all-or-nothing, idempotent, versioned."""
import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, Bank, Question
from quizapp.services.attempts import start_attempt
from quizapp.services.banks import BankImportError, import_banks

from .conftest import SAMPLE_BANK


def count_questions() -> int:
    return db.session.scalar(select(func.count()).select_from(Question))


def test_import_then_reimport_changes_nothing(ctx):
    first = import_banks([SAMPLE_BANK])
    assert (first.added, first.changed, first.unchanged) == (12, 0, 0)
    second = import_banks([SAMPLE_BANK])
    assert (second.added, second.changed, second.unchanged) == (0, 0, 12)
    assert count_questions() == 12 and db.session.scalar(select(func.count()).select_from(Bank)) == 1


def test_a_file_with_an_error_imports_nothing_not_even_the_good_files(ctx, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SAMPLE_BANK.read_text("utf-8").replace("id: test-sample", "id: other")
                   .replace("t-00", "x-00").replace("difficulty: 2", "difficulty: 9", 1), encoding="utf-8")
    with pytest.raises(BankImportError) as info:
        import_banks([SAMPLE_BANK, bad])
    assert any("difficulty" in e.message and e.file.endswith("bad.yaml") for e in info.value.errors)
    assert count_questions() == 0


def test_changed_question_gets_a_new_version_and_attempts_keep_theirs(app, ctx, build, clock, tmp_path):
    import_banks([SAMPLE_BANK])
    build.participant("p1")
    round_id = build.round(sections=[{"type": "single", "count": 4}])
    from quizapp.models import Round, User

    attempt = start_attempt(db.session.get(Round, round_id), db.session.scalar(select(User).filter_by(username="p1")))
    shown = {item.question.qid: item.question_id for item in attempt.items}
    changed = tmp_path / "sample.yaml"
    changed.write_text(SAMPLE_BANK.read_text("utf-8").replace("中华人民共和国的最高监察机关是", "我国的最高监察机关是"), encoding="utf-8")
    report = import_banks([changed])
    assert (report.added, report.changed, report.unchanged) == (0, 1, 11)
    versions = db.session.scalars(select(Question).filter_by(qid="t-0001").order_by(Question.version)).all()
    assert [(q.version, q.is_current) for q in versions] == [(1, False), (2, True)]
    assert versions[1].stem.startswith("我国")
    db.session.expire_all()
    kept = db.session.get(Attempt, attempt.id)
    assert {item.question.qid: item.question_id for item in kept.items} == shown
    assert db.session.get(Question, shown["t-0001"]).stem.startswith("中华人民共和国")
