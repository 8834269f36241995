"""The organizer's rounds, units and slips (issue 9): Chinese messages, errors beside their
fields, live availability and progress as JSON, confirmation steps, team progress, 未开始,
units in 拼音 order and edited in bulk, slips with the participants' address and a QR code."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import AuditEvent, Competition, Round, Team, Unit, User
from quizapp.services.attempts import start_attempt, submit_attempt

from .conftest import START, csrf_from, login


def admin(client) -> str:
    login(client, "admin")
    return csrf_from(client.get("/admin/").get_data(as_text=True))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def field_block(html: str, name: str) -> str:
    """The <div class="field …"> that holds the input named `name`."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


@pytest.fixture
def organizer(app, build, clock):
    build.bank()
    build.admin()
    return build


def test_shortfall_names_the_type_in_chinese(app, client, organizer):
    round_id = organizer.round(open_=False, sections=[{"type": "fill", "count": 50}])
    token = admin(client)
    page = client.post(f"/admin/rounds/{round_id}/open", data={"csrf_token": token}, follow_redirects=True)
    body = page.get_data(as_text=True)
    assert "第 1 组（填空题，需要 50 道）" in body and "fill" not in text_of(body)


def test_round_form_errors_sit_beside_their_fields(app, client, organizer):
    with app.app_context():
        competition = Competition(name="表单竞赛")
        db.session.add(competition)
        db.session.commit()
        url = f"/admin/competitions/{competition.id}/rounds/new"
    admin(client)
    html = client.get(url).get_data(as_text=True)
    start = (START + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    data = {"csrf_token": csrf_from(html), "stage": "初赛", "name": "初赛", "opens_at": start, "closes_at": start,
            "time_limit_minutes": "", "count_single": "2", "count_multiple": "0", "count_judge": "0", "count_fill": "-1",
            "points_single": "1", "points_multiple": "2", "points_judge": "1", "points_fill": "2",
            "multiple_rule": "partial", "draw_mode": "random", "show_score": "after_close", "unit_method": "mean",
            "doc": "", "difficulty": ""}
    body = client.post(url, data=data).get_data(as_text=True)
    minutes, fill = field_block(body, "time_limit_minutes"), field_block(body, "count_fill")
    assert "has-error" in minutes and "请填写答题时长" in minutes and "应在 0–500 之间" in fill
    assert "应在 0–500 之间" not in field_block(body, "count_single")
    data["count_fill"] = "0"
    data["time_limit_minutes"] = "30"
    body = client.post(url, data=data).get_data(as_text=True)
    assert "结束时间必须晚于开始时间" in field_block(body, "closes_at")
    assert "结束时间必须晚于开始时间" not in field_block(body, "opens_at")
    with app.app_context():
        assert db.session.scalar(select(Round.id)) is None


def test_availability_endpoint_answers_as_the_form_is_edited(app, client, organizer):
    with app.app_context():
        db.session.add(Competition(name="竞赛"))
        db.session.commit()
        competition_id = db.session.scalar(select(Competition.id))
    admin(client)
    form = client.get(f"/admin/competitions/{competition_id}/rounds/new").get_data(as_text=True)
    assert "round_form.js" in form and "可用" in form and "需要 20 道" in form
    assert "试卷共 50 题，总分 65 分" in form  # 20×1 + 10×2 + 15×1 + 5×2 as the form is set
    body = {"doc": "", "difficulty": "", "counts": {"single": 2, "judge": 999, "fill": 3}}
    assert client.post("/admin/rounds/availability", json=body).status_code == 400  # no CSRF header
    reply = client.post("/admin/rounds/availability", json=body, headers={"X-CSRFToken": csrf_from(form)})
    assert reply.status_code == 200 and reply.is_json
    sections = {s["type"]: s for s in reply.get_json()["sections"]}
    assert sections["single"]["need"] == 2 and sections["single"]["label"] == "单选题"
    assert sections["single"]["available"] >= 2 and not sections["single"]["short"]
    assert "judge" not in sections  # beyond the form's range: not a section
    bad = client.post("/admin/rounds/availability", json=[1, 2], headers={"X-CSRFToken": csrf_from(form)})
    assert bad.status_code == 400 and "请求格式不正确" in bad.get_json()["error"]


def test_delete_and_early_close_need_confirmation(app, client, organizer, clock):
    draft = organizer.round(open_=False)
    token = admin(client)
    page = client.get(f"/admin/rounds/{draft}").get_data(as_text=True)
    assert 'name="confirm"' in page
    refused = client.post(f"/admin/rounds/{draft}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "确认删除" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, draft) is not None
    client.post(f"/admin/rounds/{draft}/delete", data={"csrf_token": token, "confirm": "1"})
    with app.app_context():
        assert db.session.get(Round, draft) is None
    open_id = organizer.round()
    refused = client.post(f"/admin/rounds/{open_id}/close", data={"csrf_token": token, "reason": "停电"},
                          follow_redirects=True)
    assert "确认提前结束" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, open_id).status == "open"
    client.post(f"/admin/rounds/{open_id}/close", data={"csrf_token": token, "reason": "停电", "confirm": "1"})
    with app.app_context():
        assert db.session.get(Round, open_id).status == "closed"


def test_round_page_refreshes_figures_not_the_page(app, client, organizer, clock):
    for i in range(3):
        organizer.participant(f"p{i}", unit="甲单位", name=f"人员{i}")
    round_id = organizer.round()
    admin(client)
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "round.js" in page
    assert re.search(r"<details class=\"waiting\">\s*<summary>尚未开始答题", page)  # collapsed list
    assert "打印准考证" in page and f"/admin/slips?competition=" in page
    with app.app_context():
        submit_attempt(start_attempt(db.session.get(Round, round_id), db.session.scalar(select(User).filter_by(username="p0"))))
        unit_id = db.session.scalar(select(Unit.id).filter_by(name="甲单位"))
    reply = client.get(f"/admin/rounds/{round_id}/progress")
    data = reply.get_json()
    assert reply.is_json and data["totals"] == {"registered": 3, "not_started": 2, "in_progress": 0, "finished": 1}
    assert data["units"][str(unit_id)]["finished"] == 1 and data["waiting"] == 2


def test_team_round_progress_counts_members_of_a_submitted_team(app, client, organizer, clock):
    from quizapp.services.rounds import open_round, round_progress
    from quizapp.services.teams import form_teams

    for username, unit in (("a1", "甲"), ("a2", "甲"), ("b1", "乙")):
        organizer.participant(username, unit=unit)
    organizer.unit("无人单位")
    round_id = organizer.round(open_=False, team_size=2, team_scoring="shared", sections=[{"type": "single", "count": 2}])
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        form_teams(round_)
        db.session.commit()
        open_round(round_)
        submit_attempt(start_attempt(round_, db.session.scalar(select(User).filter_by(username="a1"))))
        progress = round_progress(round_)
        rows = {r.unit.name: (r.registered, r.not_started, r.finished) for r in progress.units}
        assert rows == {"甲": (2, 0, 2), "乙": (1, 1, 0)}  # 无人单位 has no team: not listed
        assert [u.username for u in progress.waiting] == ["b1"]


def test_opened_ahead_reads_not_started_until_its_start(app, client, organizer, clock):
    round_id = organizer.round(opens_at=START + timedelta(hours=1), closes_at=START + timedelta(hours=3))
    admin(client)
    index = text_of(client.get("/admin/").get_data(as_text=True))
    assert "未开始" in index and "进行中" not in index
    assert "status-pending" in client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    clock.advance(hours=1)
    assert "进行中" in text_of(client.get("/admin/").get_data(as_text=True))


def test_new_competition_offers_the_usual_three_rounds(app, client, organizer):
    token = admin(client)
    client.post("/admin/competitions/new", data={"csrf_token": token, "name": "2026年竞赛", "default_rounds": "1"})
    client.post("/admin/competitions/new", data={"csrf_token": token, "name": "只要竞赛"})
    with app.app_context():
        first = db.session.scalar(select(Competition).filter_by(name="2026年竞赛"))
        assert [(r.seq, r.stage, r.status) for r in first.rounds] == [(1, "初赛", "draft"), (2, "复赛", "draft"), (3, "决赛", "draft")]
        assert first.rounds[2].team_size == 3
        bare = db.session.scalar(select(Competition).filter_by(name="只要竞赛"))
        assert bare.rounds == []
        bare_id = bare.id
    form = client.get(f"/admin/competitions/{bare_id}/rounds/new").get_data(as_text=True)
    assert re.search(r'<option selected value="初赛">|<option value="初赛" selected', form)
    assert "同时预设初赛、复赛、决赛" in client.get("/admin/").get_data(as_text=True)


def test_round_page_shows_the_paper_total_as_set(app, client, organizer):
    round_id = organizer.round(open_=False, sections=[{"type": "single", "count": 2}, {"type": "multiple", "count": 1}],
                               points={"single": 1.5, "multiple": 3, "judge": 1, "fill": 2})
    admin(client)
    assert "试卷总分 6 分（3 题）" in text_of(client.get(f"/admin/rounds/{round_id}").get_data(as_text=True))


def test_units_sort_in_pinyin_or_set_order_everywhere(app, client, organizer):
    for username, unit in (("z1", "张家镇"), ("a1", "安乐乡"), ("b1", "北关街道")):
        organizer.participant(username, unit=unit)
    round_id = organizer.round()
    admin(client)

    def order(html, names=("张家镇", "安乐乡", "北关街道")):
        return sorted(names, key=lambda name: html.index(f">{name}<"))

    people = client.get("/admin/people").get_data(as_text=True)
    assert order(people) == ["安乐乡", "北关街道", "张家镇"]
    assert order(client.get(f"/admin/rounds/{round_id}/attempts").get_data(as_text=True)) == ["安乐乡", "北关街道", "张家镇"]
    with app.app_context():
        db.session.scalar(select(Unit).filter_by(name="张家镇")).sort_order = 1
        db.session.commit()
    for url in ("/admin/people", "/admin/slips", f"/admin/rounds/{round_id}", f"/admin/rounds/{round_id}/attempts"):
        assert order(client.get(url).get_data(as_text=True)) == ["张家镇", "安乐乡", "北关街道"], url


def test_units_table_edits_in_bulk_in_one_transaction(app, client, organizer):
    ids = [organizer.unit(name) for name in ("甲", "乙")]
    token = admin(client)
    page = client.get("/admin/units").get_data(as_text=True)
    assert 'name="name_1"' in page and 'name="order_1"' in page
    rows = {"csrf_token": token, "id_1": ids[0], "name_1": "乙", "group_1": "乡镇", "order_1": "",
            "id_2": ids[1], "name_2": "乙", "group_2": "", "order_2": "x"}
    refused = client.post("/admin/units", data=rows)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "与第 1 行重复" in body and "排序应为整数" in body
    rows.update(name_2="丙" * 101, order_2="2")
    assert "超过 100 字" in client.post("/admin/units", data=rows).get_data(as_text=True)
    with app.app_context():
        assert sorted(db.session.scalars(select(Unit.name))) == ["乙", "甲"]  # nothing written
    # Swap the names, group, order and add one unit, all at once.
    rows.update(name_1="乙", name_2="甲", order_2="2", name_3="新单位", id_3="", group_3="县直部门", order_3="")
    client.post("/admin/units", data=rows)
    with app.app_context():
        units = {u.id: (u.name, u.group_name, u.sort_order) for u in db.session.scalars(select(Unit))}
        assert units[ids[0]] == ("乙", "乡镇", None) and units[ids[1]] == ("甲", None, 2)
        assert ("新单位", "县直部门", None) in units.values()
        event = db.session.scalar(select(AuditEvent).filter_by(action="unit.bulk"))
        assert "新增 1 个" in event.summary and "改名为「乙」" in event.summary


def test_units_upload_csv_and_xlsx(app, client, organizer):
    organizer.unit("甲")
    token = admin(client)
    csv_file = "单位,分组,排序\n甲,乡镇,3\n新镇,乡镇,\n".encode("utf-8")
    client.post("/admin/units/upload", data={"csrf_token": token, "file": (io.BytesIO(csv_file), "units.csv")},
                content_type="multipart/form-data")
    gbk = client.post("/admin/units/upload", data={"csrf_token": token, "file": (io.BytesIO("甲,乡镇\n".encode("gbk")), "u.csv")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "UTF-8" in gbk.get_data(as_text=True)
    fake = client.post("/admin/units/upload", data={"csrf_token": token, "file": (io.BytesIO(b"not a workbook"), "u.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "无法读取该 XLSX 文件" in fake.get_data(as_text=True)
    with app.app_context():
        units = {u.name: (u.group_name, u.sort_order) for u in db.session.scalars(select(Unit))}
        assert units == {"甲": ("乡镇", 3), "新镇": ("乡镇", None)}


def test_slips_print_the_participants_address_and_a_qr_code(app, client, organizer):
    for i in range(5):
        organizer.participant(f"s{i}", unit="甲")
    organizer.round(open_=False)
    token = admin(client)
    page = client.get("/admin/slips").get_data(as_text=True)
    assert "http://localhost" not in page  # the address the organizer's browser used
    assert "http://quiz.example.gov.cn/" in page and "尚未设置登录地址" in page
    assert "测试竞赛" in page and page.count("<svg") == 5
    assert page.count('class="slip-page"') == 2  # 4 + 1: no page for nothing
    refused = client.post("/admin/slips", data={"csrf_token": token, "participant_url": "javascript:alert(1)"},
                          follow_redirects=True)
    assert "登录地址应形如" in refused.get_data(as_text=True)
    client.post("/admin/slips", data={"csrf_token": token, "participant_url": "192.168.10.5:8080"})
    page = client.get("/admin/slips").get_data(as_text=True)
    assert "http://192.168.10.5:8080/" in page and "尚未设置登录地址" not in page
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).filter_by(action="setting.edit")) is not None


def test_qr_code_encodes_the_address():
    import segno

    from quizapp.organizer.units import qr_svg

    svg = str(qr_svg("http://192.168.10.5/"))
    assert svg.startswith("<svg") and "<script" not in svg
    assert svg == segno.make("http://192.168.10.5/", error="m").svg_inline(scale=3, border=2, dark="#000", title="登录地址二维码")


def test_favicon_is_linked_and_served(client, organizer):
    login(client, "admin")
    assert 'rel="icon"' in client.get("/admin/").get_data(as_text=True)
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in icon.data


@pytest.mark.browser
def test_round_page_and_form_in_the_browser(app, build):
    """In Chromium: 30 s later the round page's figures change while a half-typed reason stays;
    the round form says 「可用 N 道，需要 M 道」 and the total as counts are edited."""
    import os
    import shutil
    import threading

    from playwright.sync_api import expect, sync_playwright
    from werkzeug.serving import make_server

    from quizapp.clock import utcnow

    from .test_browser import CHROMIUM_FLAGS, sign_in

    build.bank()
    build.admin()
    build.participant("20260001", name="王小明")
    now = utcnow()
    round_id = build.round(opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=2))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    path = os.environ.get("QUIZAPP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium not found: install Debian's `chromium` package"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.clock.install()
            sign_in(page, base, "admin")
            page.goto(f"{base}/admin/rounds/{round_id}")
            page.locator("summary", has_text="提前结束本轮").click()
            page.get_by_label("提前结束的原因").fill("停电，半句")
            assert page.locator('[data-total="finished"]').inner_text() == "0"
            with app.app_context():
                round_ = db.session.get(Round, round_id)
                submit_attempt(start_attempt(round_, db.session.scalar(select(User).filter_by(username="20260001"))))
            page.clock.run_for(31_000)
            expect(page.locator('[data-total="finished"]')).to_have_text("1")
            assert page.get_by_label("提前结束的原因").input_value() == "停电，半句"
            with app.app_context():
                competition_id = db.session.get(Round, round_id).competition_id
            page.goto(f"{base}/admin/competitions/{competition_id}/rounds/new")
            page.get_by_label("单选题数量").fill("300")
            page.clock.run_for(1_000)
            expect(page.locator("#avail-single")).to_contain_text("需要 300 道")
            assert "可用 4 道" in page.locator("#avail-single").inner_text()
            assert "试卷共 330 题" in page.locator("#paper-total").inner_text()
            browser.close()
    finally:
        server.shutdown()
