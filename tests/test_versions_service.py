"""Versions and groups through the services: a default round draws only versions in force; a
round that would put 2018 and 2024 《监察法》 on one paper needs the explicit choice; two
questions of one group never share a paper."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import AttemptItem, Bank, PreparedPaper, Question, Round
from quizapp.services import ServiceError
from quizapp.services.banks import import_banks
from quizapp.services.rounds import open_round

from .conftest import SAMPLE_BANK


def superseded_copy(tmp_path):
    """The sample bank as a superseded 2018 version: other ids, stems naming 2018."""
    text = SAMPLE_BANK.read_text("utf-8")
    text = text.replace("id: test-sample", "id: old-sample").replace("t-00", "o-00")
    text = text.replace('version: "2024"\n  in_force: true', 'version: "2018"\n  in_force: false\n  superseded_by: test-sample')
    text = re.sub(r"    stem: ", "    stem: 2018年《监察法》规定：", text)
    path = tmp_path / "old.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_versions(app, build, clock, tmp_path):
    with app.app_context():
        import_banks([SAMPLE_BANK])
        import_banks([superseded_copy(tmp_path)])
        assert dict(db.session.execute(select(Bank.slug, Bank.in_force)).all()) == {"test-sample": True, "old-sample": False}
    for i in range(1, 21):
        build.participant(f"p{i:02d}")


def drawn_banks(app, round_id) -> set[str]:
    with app.app_context():
        papers = db.session.scalars(select(PreparedPaper).filter_by(round_id=round_id)).all()
        ids = {qid for paper in papers for qid, _ in paper.items}
        return set(db.session.scalars(select(Bank.slug).join(Question, Question.bank_id == Bank.id)
                                      .where(Question.id.in_(ids))))


def test_default_rules_draw_only_the_version_in_force(app, two_versions):
    round_id = None
    from .conftest import Builder

    round_id = Builder(app).round()
    assert drawn_banks(app, round_id) == {"test-sample"}


def test_both_versions_on_one_paper_need_the_explicit_choice(app, two_versions, build):
    mixed = build.round(open_=False, allow_superseded=True)
    with app.app_context():
        with pytest.raises(ServiceError, match="不同版本"):
            open_round(db.session.get(Round, mixed))
        assert db.session.get(Round, mixed).status == "draft"
    chosen = build.round(allow_superseded=True, allow_mixed_versions=True)
    assert drawn_banks(app, chosen) == {"test-sample", "old-sample"}


def test_two_questions_of_one_group_never_share_a_paper(app, build, clock, tmp_path):
    text = SAMPLE_BANK.read_text("utf-8")
    for qid in ("t-0001", "t-0003"):  # two of the four 单选
        text = text.replace(f"  - id: {qid}\n", f"  - id: {qid}\n    group: supreme-organ\n")
    path = tmp_path / "grouped.yaml"
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        import_banks([path])
    for i in range(1, 31):
        build.participant(f"p{i:02d}")
    round_id = build.round(sections=[{"type": "single", "count": 3}])
    with app.app_context():
        grouped = set(db.session.scalars(select(Question.id).where(Question.draw_group == "supreme-organ")))
        papers = db.session.scalars(select(PreparedPaper).filter_by(round_id=round_id)).all()
        assert len(papers) == 30
        for paper in papers:
            assert len({qid for qid, _ in paper.items} & grouped) == 1
        with pytest.raises(ServiceError, match="只有 3 道可用题目"):
            open_round(db.session.get(Round, build.round(open_=False, sections=[{"type": "single", "count": 4}])))


def test_bank_and_question_pages_show_versions(app, client, build, two_versions):
    from .conftest import login

    build.admin("boss")
    login(client, "boss")
    page = client.get("/admin/banks").get_data(as_text=True)
    assert "《监察法》2024年版" in page and "《监察法》2018年版" in page and "已失效" in page and "现行有效" in page
    with app.app_context():
        old_id = db.session.scalar(select(Question.id).filter_by(qid="o-0001"))
    question = client.get(f"/admin/questions/{old_id}").get_data(as_text=True)
    assert "《监察法》2018年版，已失效（新轮次默认不抽取）" in question
    form = client.get(f"/admin/competitions/{_competition(app)}/rounds/new").get_data(as_text=True)
    assert "允许抽取已失效的版本" in form and "相反的答案" in form


def _competition(app):
    from quizapp.models import Competition

    with app.app_context():
        competition = Competition(name="版本竞赛")
        db.session.add(competition)
        db.session.commit()
        return competition.id
