"""The organizer opens the 体检 heatmap in Chromium (first its computing page, which turns into the report), downloads the XLSX (opened with openpyxl:
colour scale and chart present), and opens a unit report; screenshots of both are kept in
artifacts/ (CI keeps that folder)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .test_browser import browser, live_server, sign_in  # noqa: F401  (fixtures)
from .test_health_service import UNITS, health_round  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def test_organizer_heatmap_export_and_unit_report(browser, live_server, health_round):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/health?rounds={health_round}")
    # Not computed yet: the page is the background job's progress bar, and reloads itself into
    # the report when the job (a thread of the server, without Redis) is done.
    page.screenshot(path=str(ARTIFACTS / "health-computing-360.png"))  # usually the progress page
    page.wait_for_selector("table.heatmap tr.county", timeout=30000)
    assert page.locator("table.heatmap tr.county").count() == 1
    assert page.locator("svg.chart").count() >= 2
    # Nothing wider than the phone except the table, which scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 362
    page.screenshot(path=str(ARTIFACTS / "health-heatmap-360.png"), full_page=True)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "health-heatmap.png"), full_page=True)
    page.get_by_role("link", name="参与率").first.click()
    assert "sort=participation" in page.url
    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel").click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    heat = book["单位×文件"]
    assert any(rule.type == "colorScale" for cf in heat.conditional_formatting for rule in cf.rules)
    assert book["各文件正确率"]._charts
    assert heat["A2"].value.startswith("全县")
    page.get_by_role("link", name=UNITS[0]).first.click()
    page.wait_for_url("**/admin/health/units/**")
    assert "学习情况体检报告" in page.content()
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "unit-report.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "unit-report.pdf"), format="A4")
    context.close()
