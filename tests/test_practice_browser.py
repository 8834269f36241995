"""练习 in a real browser on a 360 px phone: a chapter set with feedback after each question,
a wrong answer in the 错题本, and its leaving after right answers in two later sets."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from quizapp.extensions import db

from .test_browser import browser, live_server, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def keys(app, session_id: int) -> dict[int, tuple[str, object]]:
    """position → (type, the correct response in display form) of a practice set."""
    from quizapp.models.practice import PracticeItem
    from quizapp.services.attempts import to_display_response

    with app.app_context():
        items = db.session.scalars(db.select(PracticeItem).filter_by(session_id=session_id)).all()
        out = {}
        for item in items:
            q = item.question
            key = [v[0] for v in q.answer] if q.type == "fill" else to_display_response(q.type, item.option_order, q.answer)
            out[item.position] = (q.type, key)
        return out


def wrong_of(qtype: str, key):
    if qtype == "judge":
        return not key
    if qtype == "single":
        return next(c for c in "ABCD" if c != key)
    if qtype == "multiple":
        return [c for c in "ABCD" if c not in key][:1]
    return ["不知道"] * len(key)


def answer(page, position: int, qtype: str, response) -> None:
    sec = page.locator(f"#pq-{position}")
    if qtype == "fill":
        for i, text in enumerate(response):
            sec.locator(".blank").nth(i).fill(text)
    elif qtype == "judge":
        sec.locator(f"input[value='{'true' if response else 'false'}']").check()
    else:
        for letter in (response if isinstance(response, list) else [response]):
            sec.locator(f"input[value='{letter}']").check()
    sec.get_by_role("button", name="提交").click()
    sec.locator("[data-feedback]").wait_for()


def session_id_of(page) -> int:
    return int(re.search(r"/practice/sessions/(\d+)$", page.url).group(1))


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def retry_mistakes(page, app, base) -> str:
    """One 错题重练 set (a single question) answered right; returns its feedback's text."""
    page.goto(f"{base}/practice/mistakes")
    page.get_by_role("button", name="重练错题").click()
    page.wait_for_url(re.compile(r"/practice/sessions/\d+$"))
    (qtype, key), = keys(app, session_id_of(page)).values()
    answer(page, 1, qtype, key)
    return page.locator("#pq-1 [data-feedback]").inner_text()


def test_participant_practises_a_chapter_on_a_phone(browser, live_server, app, build):  # noqa: F811
    build.bank()
    build.participant("20260001", name="王小明")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "20260001")
    page.get_by_role("link", name="进入练习").click()
    page.wait_for_url(re.compile(r"/practice/$"))
    assert no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice-home-360.png"), full_page=True)
    form = page.locator("form.chapter-form").first
    form.get_by_label("章节").select_option(label="监察机关及其职责（5 题）")
    form.get_by_role("button", name="开始练习").click()
    page.wait_for_url(re.compile(r"/practice/sessions/\d+$"))
    session_keys = keys(app, session_id_of(page))
    assert len(session_keys) == 5
    assert page.locator("[data-feedback]").count() == 0 and "正确答案" not in page.content()

    for position in range(1, 6):
        qtype, key = session_keys[position]
        right = position != 2
        answer(page, position, qtype, key if right else wrong_of(qtype, key))
        feedback = page.locator(f"#pq-{position} [data-feedback]")
        text = feedback.inner_text()
        assert ("✓ 回答正确" if right else "✗ 回答错误") in text and "正确答案" in text and "解析" in text
        assert "原文：《中华人民共和国监察法》（2024年修正）第" in text
        if position == 2:
            assert "已加入错题本" in text
            assert no_sideways_scroll(page)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "practice-feedback-360.png"), full_page=True)
        feedback.get_by_role("button", name=re.compile("下一题|查看本组结果")).click()
    assert "答对 4 / 5 题" in page.locator("#practice-summary").inner_text()

    page.get_by_role("link", name="查看错题本").click()
    assert page.locator("h1").inner_text() == "错题本（1 题）"
    assert page.locator("[data-mistake]").count() == 1 and "再答对 2 次移出" in page.content()
    page.screenshot(path=str(ARTIFACTS / "practice-mistakes-360.png"), full_page=True)

    assert "再在之后的练习中答对 1 次即移出" in retry_mistakes(page, app, live_server)
    page.goto(f"{live_server}/practice/mistakes")
    assert page.locator("h1").inner_text() == "错题本（1 题）" and "再答对 1 次移出" in page.content()
    assert "已从错题本移出" in retry_mistakes(page, app, live_server)
    page.goto(f"{live_server}/practice/mistakes")
    assert page.locator("h1").inner_text() == "错题本（0 题）"
    page.goto(f"{live_server}/lobby")
    assert "错题本（0）" in page.locator("#practice-card").inner_text()
    context.close()
