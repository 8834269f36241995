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
    return build.round(opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=2))


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
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.wait_for_function("() => document.querySelector('#countdown').textContent.includes(':')")
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

    page.wait_for_timeout(1500)
    page.reload()
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

    page.get_by_role("button", name="交卷").click()
    confirm = page.locator("#confirm-text")
    assert confirm.inner_text() == "还有 3 题未作答：第 2、4、6 题。确定要交卷吗？"
    page.get_by_role("button", name="确认交卷").click()
    page.wait_for_url(re.compile(r"/result$"))
    assert "已交卷" in page.content() and "得分" in page.content()
    assert page.locator(".big-score").inner_text().endswith("/ 10")
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
