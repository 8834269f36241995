"""Real-browser flows: Playwright for Python driving Debian's Chromium, headless.

A missing browser is a failure, not a skip: `.ci/run` installs the `chromium` package.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from quizapp.clock import utcnow

from .conftest import PASSWORD

pytestmark = pytest.mark.browser
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    path = os.environ.get("QUIZAPP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium not found: install Debian's `chromium` package (see .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def open_round(build):
    build.bank()
    build.admin()
    build.participant("20260001", name="王小明")
    build.participant("20260002", name="李小红", unit="县委办公室")
    now = utcnow()
    return build.round(opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=2), show_score="on_submit")


def sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("准考证号 / 用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def seconds_left(page) -> int:
    minutes, seconds = page.locator("#countdown").inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def test_participant_answers_reloads_and_submits(browser, live_server, open_round, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "20260001")
    navigations = []
    page.on("request", lambda r: navigations.append((r.method, r.url)) if r.is_navigation_request() else None)
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.wait_for_function("() => document.querySelector('#countdown').textContent.includes(':')")
    quiz_url = page.url
    # 开始 answered with the page itself: one request, and the address bar names the attempt.
    assert navigations == [("POST", f"{live_server}/rounds/{open_round}/start")]
    first_left = seconds_left(page)
    assert 29 * 60 <= first_left <= 30 * 60

    page.locator("#q-1 .option").nth(1).click()
    page.locator("#q-3 .option").nth(0).click()
    page.locator("#q-3 .option").nth(2).click()
    page.locator("#q-5 .option").nth(0).click()
    page.locator("#q-2 [data-flag]").check()
    page.locator("#q-7 .blank").first.fill("专责机关")
    # Arrow functions, not bare expressions: Playwright evals bare expressions, which our CSP forbids.
    page.wait_for_function("() => document.querySelector('#save-state').textContent === '已保存'"
                           " && !localStorage.getItem(document.querySelector('#quiz').dataset.storageKey).includes('position')")
    page.screenshot(path=str(tmp_path / "quiz-360.png"), full_page=False)

    # 答题卡 on a phone: a sheet opened at the question in view; a jump closes it and leaves the
    # question's heading visible below the sticky bar.
    page.locator("#q-3").scroll_into_view_if_needed()
    page.get_by_role("button", name="答题卡").click()
    assert page.locator("#navigator").is_visible()
    assert page.locator('#navigator [data-nav="3"].current').count() == 1
    page.screenshot(path=str(tmp_path / "navigator-360.png"))
    page.locator('#navigator [data-nav="4"]').click()
    page.wait_for_timeout(300)
    assert not page.locator("#navigator").is_visible()
    bar_bottom = page.evaluate("() => document.querySelector('.quiz-bar').getBoundingClientRect().bottom")
    heading_top = page.evaluate("() => document.querySelector('#q-4 .question-head').getBoundingClientRect().top")
    assert bar_bottom <= heading_top < bar_bottom + 120
    for name in ("标记",):
        box = page.locator("#q-4 .flag").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (name, box)
    logout_box = page.get_by_role("button", name="退出").bounding_box()
    assert logout_box["height"] >= 44
    # On a desktop the card stays in view while the page scrolls.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    nav = page.evaluate("() => document.querySelector('#navigator').getBoundingClientRect().toJSON()")
    assert nav["top"] >= 0 and nav["top"] < 800 and nav["height"] > 0
    page.screenshot(path=str(tmp_path / "quiz-desktop.png"))
    page.set_viewport_size({"width": 360, "height": 740})

    page.wait_for_timeout(1500)
    page.reload()
    assert navigations[-1] == ("GET", quiz_url)  # a reload asks for the attempt's page, never posts 开始 again
    assert page.locator("#q-1 .options input").nth(1).is_checked()
    assert page.locator("#q-3 .options input").nth(0).is_checked() and page.locator("#q-3 .options input").nth(2).is_checked()
    assert page.locator("#q-5 .options input").nth(0).is_checked()
    assert page.locator("#q-2 [data-flag]").is_checked()
    assert page.locator("#q-7 .blank").first.input_value() == "专责机关"
    page.wait_for_function("() => document.querySelector('#countdown').textContent.includes(':')")
    after_reload = seconds_left(page)
    assert first_left - 10 <= after_reload < first_left  # the timer kept running across the reload
    page.wait_for_timeout(1200)
    assert seconds_left(page) < after_reload
    # Back leads to the lobby, which offers to continue; Forward returns to the same quiz.
    page.go_back()
    page.wait_for_url(re.compile(r"/lobby$"))
    page.go_forward()
    page.wait_for_url(quiz_url)
    page.wait_for_function("() => document.querySelector('#countdown').textContent.includes(':')")
    assert page.locator("#q-1 .options input").nth(1).is_checked()

    page.get_by_role("button", name="交卷").click()
    confirm = page.locator("#confirm-text")
    assert confirm.inner_text() == "还有 3 题未作答：第 2、4、6 题。已标记 1 题：第 2 题。确定要交卷吗？"
    page.get_by_role("button", name="确认交卷").click()
    page.wait_for_url(re.compile(r"/result$"))
    assert "已交卷" in page.content() and "得分" in page.content()
    assert page.locator(".big-score").inner_text().endswith("/ 10")
    context.close()


def test_signed_out_in_another_tab_loses_no_answer(browser, live_server, open_round, app, tmp_path):
    """The session ends mid-quiz (signed out in a second tab): the save is refused with 401, the
    page never says 已保存 for it, keeps it queued, and sends it after signing in again."""
    from quizapp.extensions import db
    from quizapp.models import AttemptItem

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "20260001")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    attempt_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#save-state").inner_text() != "已保存"  # nothing saved yet
    page.locator("#q-1 .option").nth(0).click()
    page.wait_for_function("() => document.querySelector('#save-state').textContent === '已保存'")

    other = context.new_page()
    other.goto(f"{live_server}/lobby")
    other.get_by_role("button", name="退出").click()
    other.wait_for_url(re.compile(r"/login"))
    other.close()

    page.locator("#q-2 .option").nth(1).click()
    page.wait_for_selector("#signed-out:not([hidden])")
    page.wait_for_timeout(500)
    assert page.locator("#save-state").inner_text() == "未保存：请重新登录"
    assert "重新登录后自动提交" in page.locator("#signed-out").inner_text()
    page.screenshot(path=str(tmp_path / "signed-out-360.png"))
    with app.app_context():
        assert db.session.scalar(db.select(AttemptItem.response).filter_by(attempt_id=attempt_id, position=2)) is None

    page.get_by_role("link", name="重新登录").click()
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("准考证号 / 用户名").fill("20260001")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}$"))
    page.wait_for_function("() => document.querySelector('#save-state').textContent === '已保存'")
    assert page.locator("#q-2 .options input").nth(1).is_checked()
    with app.app_context():
        assert db.session.scalar(db.select(AttemptItem.response).filter_by(attempt_id=attempt_id, position=2)) is not None
    context.close()


def test_a_failed_clock_reply_does_not_break_the_countdown(browser, live_server, open_round):
    """A clock reply that is not ok (the database is down: a 503 with an error body) is ignored:
    the countdown keeps its time, never NaN."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "20260001")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.route(re.compile(r".*/clock$"), lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"ok": false, "error": "数据库暂时无法连接"}'))
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(1500)
    text = page.locator("#countdown").inner_text()
    assert "NaN" not in text and re.fullmatch(r"\d+:\d\d", text), text
    assert 28 * 60 <= seconds_left(page) <= 30 * 60
    context.close()


def test_bank_text_shows_as_text_in_the_browser(browser, live_server, open_round, app):
    from quizapp.extensions import db
    from quizapp.models import Question

    with app.app_context():
        for question in db.session.scalars(db.select(Question)):
            question.stem = '<img src="x" id="injected"></script>' + question.stem
            if question.options:
                question.options = [[k, f"<b>{t}</b>"] for k, t in question.options]
        db.session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "20260002")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    assert page.locator(".question").count() == 7
    assert page.locator("#q-1 .stem").inner_text().startswith('<img src="x" id="injected"></script>')
    assert page.locator("#injected").count() == 0 and page.locator(".question b").count() == 0
    assert page.locator("#q-1 .option").first.inner_text().startswith("A. <b>")
    context.close()


def test_organizer_downloads_xlsx_leaderboard(browser, live_server, open_round, app, tmp_path):
    from quizapp.extensions import db
    from quizapp.models import Round, User
    from quizapp.services.attempts import start_attempt, submit_attempt
    with app.app_context():
        for username in ("20260001", "20260002"):
            attempt = start_attempt(db.session.get(Round, open_round), db.session.scalar(db.select(User).filter_by(username=username)))
            submit_attempt(attempt)

    context = browser.new_context(accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "admin")
    page.get_by_role("link", name="管理", exact=True).first.click()
    page.get_by_role("link", name="个人排名").click()
    assert "王小明" in page.content() and "李小红" in page.content()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    target = tmp_path / "leaderboard.xlsx"
    download_info.value.save_as(target)
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("排名", "姓名", "准考证号", "单位")
    assert sorted(r[1] for r in rows[1:]) == ["李小红", "王小明"]
    context.close()


def test_whole_competition_flow_in_the_browser(browser, live_server, app, build, tmp_path):
    """Roster import → open 初赛 → participants take it → close → advance the best of each unit →
    open 复赛 → correct a key → download the updated leaderboard."""
    from quizapp.extensions import db
    from quizapp.models import Attempt, Competition, Round, User
    from quizapp.services.rounds import RoundSpec, create_round

    build.bank()
    build.admin()
    now = utcnow()
    with app.app_context():
        competition = Competition(name="浏览器竞赛")
        db.session.add(competition)
        db.session.commit()
        spec = dict(competition_id=competition.id, opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=2),
                    time_limit_minutes=20, sections=[{"type": "judge", "count": 3}])
        first = create_round(RoundSpec(stage="初赛", name="初赛", **spec)).id
        second = create_round(RoundSpec(stage="复赛", name="复赛", **spec)).id
    roster = tmp_path / "名单.csv"
    roster.write_text("姓名,单位,准考证号\n赵一,县财政局,B01\n钱二,县财政局,B02\n孙三,城关镇,B03\n", encoding="utf-8-sig")

    admin = browser.new_context(accept_downloads=True, locale="zh-CN").new_page()
    sign_in(admin, live_server, "admin")
    admin.goto(f"{live_server}/admin/people")
    admin.get_by_label("名单文件（CSV 或 XLSX）").set_input_files(str(roster))
    admin.get_by_role("button", name="上传并检查").first.click()
    assert "检查通过：3 人" in admin.content()
    admin.get_by_role("button", name="确认导入").click()
    slips = admin.locator(".slip").all_inner_texts()
    passwords = {re.search(r"准考证号\s*(B0\d)", s).group(1): re.search(r"初始密码\s*(\S+)", s).group(1) for s in slips}
    assert set(passwords) == {"B01", "B02", "B03"}

    admin.goto(f"{live_server}/admin/rounds/{first}")
    admin.get_by_role("button", name="开放本轮").click()
    assert "已开放本轮竞赛" in admin.content()

    for number, picks in (("B01", ["正确", "正确", "正确"]), ("B02", ["错误", "错误", "错误"]), ("B03", ["正确", "错误", "正确"])):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.get_by_label("准考证号 / 用户名").fill(number)
        page.get_by_label("密码").fill(passwords[number])
        page.get_by_role("button", name="登录").click()
        page.get_by_role("button", name="开始答题").click()
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        for position, pick in enumerate(picks, start=1):
            page.locator(f"#q-{position} .option", has_text=pick).click()
        page.wait_for_function("() => document.querySelector('#save-state').textContent === '已保存'")
        page.get_by_role("button", name="交卷").click()
        page.get_by_role("button", name="确认交卷").click()
        page.wait_for_url(re.compile(r"/result$"))
        context.close()

    admin.goto(f"{live_server}/admin/rounds/{first}")
    admin.get_by_text("提前结束本轮…").click()
    admin.get_by_label("提前结束的原因").fill("全部人员已交卷")
    admin.get_by_label("确认提前结束").check()
    admin.get_by_role("button", name="结束本轮").click()
    admin.get_by_role("link", name="晋级到复赛").click()
    admin.get_by_label("每单位前几名").fill("1")
    admin.get_by_role("button", name="预览").click()
    assert "预览：晋级 2 人" in admin.content()
    admin.get_by_role("button", name="确认晋级").click()
    assert "已确认晋级名单：2 人进入复赛" in admin.content()
    admin.goto(f"{live_server}/admin/rounds/{second}")
    admin.get_by_role("button", name="开放本轮").click()
    assert "晋级名单 2 人" in admin.content()

    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).join(User).where(User.username == "B01", Attempt.round_id == first))
        question = attempt.items[0].question
        question_id, old_key, before = question.id, question.answer, attempt.score
    admin.goto(f"{live_server}/admin/questions/{question_id}")
    admin.get_by_label("正确答案").fill("错误" if old_key else "正确")
    admin.get_by_label("更正原因").fill("依据原文更正")
    admin.get_by_role("button", name="更正并重新计分").click()
    assert "重新计分报告" in admin.content() and "赵一" in admin.content()

    admin.goto(f"{live_server}/admin/rounds/{first}/leaderboard")
    with admin.expect_download() as download_info:
        admin.get_by_role("link", name="导出 Excel").click()
    target = tmp_path / "after.xlsx"
    download_info.value.save_as(target)
    rows = {r[2]: r for r in list(load_workbook(target).active.iter_rows(values_only=True))[1:]}
    with app.app_context():
        after = db.session.scalar(db.select(Attempt.score).join(User).where(User.username == "B01", Attempt.round_id == first))
        assert db.session.get(Round, second).status == "open"
    assert rows["B01"][4] == after and after == before + (1 if attempt_right_after(old_key, "正确") else -1)


def attempt_right_after(old_key: bool, pick: str) -> bool:
    """B01 chose 正确 for question 1; after flipping the key that is right only if it was wrong before."""
    return (pick == "正确") != old_key
