"""The 体检 pages: organizer only, liaisons see only their own unit, figures follow corrections,
the export carries its colour scale and chart, and results reach liaisons only once released."""
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Round, Unit, User
from quizapp.services import corrections, health, health_jobs
from quizapp.services import jobs as job_service
from quizapp.services.accounts import hash_password
from quizapp.services.rounds import publish

from .conftest import PASSWORD, login
from .test_health_service import UNITS, health_round  # noqa: F401,F811  (fixture)


@pytest.fixture
def kept_round(app, health_round):
    """health_round with its 体检 computed and kept, as the job does it after the round closes."""
    compute(app, health_round)
    return health_round


def compute(app, rid: int) -> None:
    from quizapp import jobs  # noqa: F401 — registers the job kinds

    with app.app_context():
        job, _ = job_service.run_inline("health", {"round_ids": [rid]}, "体检")
        assert job.status == "done", job.message


def organizer_pages(rid: int, unit_id: int) -> list[str]:
    return [f"/admin/health?rounds={rid}", f"/admin/health?rounds={rid}&sort=participation&dir=desc",
            f"/admin/health/chapters?rounds={rid}", f"/admin/health/items?rounds={rid}",
            f"/admin/health/items?rounds={rid}&flag=key", f"/admin/health/missed?rounds={rid}",
            f"/admin/health/missed?rounds={rid}&unit={unit_id}&doc=jianchafa-2024&topic=总则",
            f"/admin/health/outline?rounds={rid}", f"/admin/health/outline?rounds={rid}&unit={unit_id}",
            f"/admin/health/units/{unit_id}?rounds={rid}", f"/admin/health/export?rounds={rid}"]


def liaison(app, username: str, unit_name: str) -> None:
    with app.app_context():
        unit = db.session.scalar(select(Unit).filter_by(name=unit_name))
        db.session.add(User(username=username, name="联络员", role="liaison", unit_id=unit.id,
                            password_hash=hash_password(PASSWORD)))
        db.session.commit()


def unit_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Unit.id).filter_by(name=name))


def test_organizer_pages_render_in_chinese(app, client, kept_round):
    login(client, "admin")
    uid = unit_id(app, UNITS[0])
    for path in organizer_pages(kept_round, uid):
        response = client.get(path)
        assert response.status_code == 200, path
        if "export" not in path:
            html = response.get_data(as_text=True)
            assert "<script" not in html  # CSP: no inline script, and none needed
            assert "正确率" in html or "区分度" in html, path
    heatmap = client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)
    assert "全县（各单位按答题数加权）" in heatmap and "<svg" in heatmap and "heat-" in heatmap
    assert f"/admin/health/missed?rounds={kept_round}&amp;unit={uid}" in heatmap  # a cell opens the unit's questions
    items = client.get(f"/admin/health/items?rounds={kept_round}&flag=key").get_data(as_text=True)
    assert "可能答案有误" in items and "去勘误" in items
    outline = client.get(f"/admin/health/outline?rounds={kept_round}").get_data(as_text=True)
    assert "学习提纲" in outline and "article-text" in outline  # the whole article from the sources


def test_participants_and_liaisons_are_refused_organizer_pages(app, client, health_round):
    liaison(app, "l1", UNITS[0])
    for username in ("h01", "l1"):
        login(client, username)
        for path in organizer_pages(health_round, unit_id(app, UNITS[0])):
            assert client.get(path).status_code == 403, (username, path)
        client.post("/logout", data={})
        client.delete_cookie("session")


def test_liaison_sees_only_their_own_unit(app, client, kept_round):
    liaison(app, "l1", UNITS[0])
    login(client, "l1")
    own, other = unit_id(app, UNITS[0]), unit_id(app, UNITS[1])
    page = client.get(f"/unit/report?rounds={kept_round}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and UNITS[0] in html and "单位排名" in html
    assert "人员0" in html and "人员1" not in html  # h00 is in 甲单位, h01 in 乙单位
    assert client.get(f"/unit/units/{own}/report?rounds={kept_round}").status_code == 200
    assert client.get(f"/unit/units/{other}/report?rounds={kept_round}").status_code == 404
    export = client.get(f"/unit/report/export?rounds={kept_round}")
    sheet = load_workbook(io.BytesIO(export.data)).active
    names = {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"人员0", "人员3", "人员6", "人员9"}


def test_liaison_sees_nothing_before_results_are_released(app, client, health_round):
    liaison(app, "l1", UNITS[0])
    with app.app_context():
        publish(db.session.get(Round, health_round), published=False)
        db.session.commit()
    login(client, "l1")
    page = client.get(f"/unit/report?rounds={health_round}").get_data(as_text=True)
    assert "成绩公布后才能查看" in page and "人员0" not in page
    export = client.get(f"/unit/report/export?rounds={health_round}")
    assert "成绩公布后才能查看" in export.get_data(as_text=True)


def test_export_has_colour_scale_items_and_chart(app, client, kept_round):
    login(client, "admin")
    response = client.get(f"/admin/health/export?rounds={kept_round}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert {"说明", "单位×文件", "单位×章节", "题目分析", "各文件正确率"} <= set(book.sheetnames)
    rules = [rule for cf in book["单位×文件"].conditional_formatting for rule in cf.rules]
    assert any(rule.type == "colorScale" for rule in rules)
    assert book["各文件正确率"]._charts, "no chart"
    assert book["题目分析"].max_row == 8  # header + 7 questions


def test_page_figures_follow_a_voided_question(app, client, kept_round):
    login(client, "admin")
    before = client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)
    with app.app_context():
        first = db.session.scalar(select(Question).where(Question.type == "single").order_by(Question.id))
        shown = {i["id"] for i in health.whole_report([db.session.get(Round, kept_round)])["items"]}
        question = next(q for q in db.session.scalars(select(Question).order_by(Question.id)) if q.id in shown)
        corrections.void_question(question, "drop", "表述有歧义")
        health_jobs.after_correction()  # what the correction's page does once it has committed
    job_service.join_threads()
    after = client.get(f"/admin/health?rounds={kept_round}").get_data(as_text=True)
    counted = lambda html: re.search(r"计入的作答题次<strong>(\d+)</strong>", html).group(1)  # noqa: E731
    assert int(counted(after)) == int(counted(before)) - 12
    assert first is not None


def test_unknown_or_open_rounds(app, client, build, health_round):
    login(client, "admin")
    assert client.get("/admin/health?rounds=999999").status_code == 404
    assert client.get("/admin/health?rounds=x").status_code == 404
    open_id = build.round()
    page = client.get(f"/admin/health?rounds={open_id}")
    assert page.status_code == 200 and "尚未结束" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/health/units/999999?rounds={rid}", "/admin/health/missed?rounds={rid}&unit=999999"])
def test_unknown_unit_is_404(client, health_round, path):
    login(client, "admin")
    assert client.get(path.format(rid=health_round)).status_code == 404


def test_participant_result_shows_ranks_and_documents_only_after_release(app, client, health_round):
    with app.app_context():
        attempt_id = db.session.scalar(select(Attempt.id).join(User, User.id == Attempt.user_id)
                                       .where(User.username == "h11"))
        health.get_report([db.session.get(Round, health_round)])  # the county figures are kept
    login(client, "h11")
    html = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "我的成绩分析" in html and "全县名次" in html and "单位内名次" in html
    assert "《中华人民共和国监察法》（2024年修正）" in html and "全县平均" in html
    assert "条文全文" in html  # a missed question carries its article
    with app.app_context():
        publish(db.session.get(Round, health_round), published=False)
        db.session.commit()
    html = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "我的成绩分析" not in html and "全县名次" not in html
