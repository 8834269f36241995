"""A whole on-stage final in real browsers — host console, three team buzzers, the big screen —
against the app served in its own process (`python -m quizapp.cli run`), which is killed in the
middle of a question and started again: every screen must come back to the same state.

On PostgreSQL (QUIZAPP_TEST_DATABASE_URL) the server uses Redis as its Socket.IO message
queue (QUIZAPP_TEST_REDIS_URL, which .ci/run sets). Screenshots go to artifacts/.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quizapp.extensions import db

from .conftest import PASSWORD
from .final_setup import final_round
from .test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CONFIG = {"required": {"count_per_team": 1}, "buzzer": {"count": 2}, "risk": {"count_per_team": 1},
          "tiebreak": {"count": 2}, "tiebreak_risk": {"count": 2, "types": ["single", "multiple", "judge", "fill"]}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app in a subprocess on a fixed port, so it can be killed and started again."""

    def __init__(self, app, tmp_path):
        self.port = _free_port()
        self.env = dict(os.environ, QUIZAPP_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                        QUIZAPP_SECRET_KEY=app.config["SECRET_KEY"], QUIZAPP_DEMO="0")
        self.env.pop("QUIZAPP_REDIS_URL", None)
        if os.environ.get("QUIZAPP_TEST_DATABASE_URL") and os.environ.get("QUIZAPP_TEST_REDIS_URL"):
            self.env["QUIZAPP_REDIS_URL"] = os.environ["QUIZAPP_TEST_REDIS_URL"]
        self.log = open(tmp_path / "server.log", "ab")
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "quizapp.cli", "run", "--port", str(self.port)],
                                        cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90  # importing the app takes seconds on a loaded 2-core machine
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError("the server did not start; see server.log")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no clean shutdown, as in a crash or power cut
        self.process.wait()


@pytest.fixture
def server(app, tmp_path):
    server = Server(app, tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()
    server.log.close()


SNAPSHOT = """() => { const c = document.getElementById('live').cloneNode(true);
  for (const id of ['live-status', 'timer', 'refused']) { const el = c.querySelector('#' + id); if (el) el.remove(); }
  return c.innerText; }"""


def test_a_whole_final_on_five_screens_survives_a_server_restart(app, build, browser, server):  # noqa: F811
    from quizapp.models import Final
    from quizapp.services.final import slips

    final_id = final_round(build, app, config=CONFIG)
    with app.app_context():
        final = db.session.get(Final, final_id)
        token, logins = final.screen_token, slips(final)
        team_names = [ft.team.name for ft in final.teams]
    ARTIFACTS.mkdir(exist_ok=True)

    def signed_in(username, password, path, width, height):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_label("准考证号 / 用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        page.goto(f"{server.url}{path}")
        return page

    host = signed_in("admin", PASSWORD, f"/admin/finals/{final_id}/console", 1366, 900)
    teams = [signed_in(s["username"], s["password"], "/buzzer", 360, 740) for s in logins]
    screen = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    screen.goto(f"{server.url}/screen/{token}")
    pages = [host, *teams, screen]
    seq = [0]

    def wait_all(n):
        for page in pages:
            page.wait_for_function(f"() => document.getElementById('live').dataset.seq === '{n}'", timeout=15000)

    wait_all(0)

    def step(action):
        action()
        seq[0] += 1
        wait_all(seq[0])

    def click(kind, correct=None):
        selector = f"#steps button[data-kind={kind}]" + (f"[data-correct={correct}]" if correct else "")
        return lambda: host.click(selector)

    press = lambda i: lambda: teams[i].click("#press")  # noqa: E731
    A, B, C = 0, 1, 2

    step(click("begin"))
    # 必答题: each team its own question; A right, B wrong, C right
    for correct in ("true", "false", "true"):
        step(click("open")); step(click("show")); step(click("judge", correct)); step(click("reveal"))
    assert "正确答案" in screen.inner_text("#reveal") and screen.inner_text("#q-explanation").startswith("解析：")
    # 抢答题: C presses before 开始 (false start), B wins and is wrong, A answers next and is right
    step(click("open")); step(click("show"))
    assert host.is_disabled("#steps button[data-kind=judge]")
    step(press(C))
    assert "抢答犯规：" + team_names[C] in screen.inner_text("#false-starts")
    assert teams[C].inner_text("#status-line") == "抢答犯规：本题已取消抢答资格" and teams[C].is_disabled("#press")
    step(click("start")); step(press(B)); step(press(A))
    assert screen.inner_text("#presses").startswith("最先抢答：" + team_names[B])
    assert " ms" in screen.inner_text("#presses")
    assert teams[B].inner_text("#status-line") == "请本队作答"
    screen.screenshot(path=str(ARTIFACTS / "final-screen-presses-1920.png"))
    teams[A].screenshot(path=str(ARTIFACTS / "final-buzzer-360.png"))
    step(click("judge", "false"))
    assert teams[A].inner_text("#status-line") == "请本队作答"
    step(click("judge", "true")); step(click("reveal"))
    # 抢答题 nobody presses: voided
    step(click("open")); step(click("show")); step(click("start")); step(click("void")); step(click("reveal"))
    assert screen.inner_text("#notice") == "无人抢答，本题作废"
    # 风险题: each team chooses a value on its own device before seeing the question
    for team, value, correct in ((A, 30, "false"), (B, 20, "true"), (C, 10, "true")):
        step(click("open"))
        assert host.is_disabled("#steps button[data-kind=show]")
        assert teams[(team + 1) % 3].locator("#risk-choice").is_hidden()
        step(lambda: teams[team].get_by_role("button", name=f"{value} 分").click())
        step(click("show")); step(click("judge", correct)); step(click("reveal"))
    scores = {name: int(score) for name, score in
              (row.split("\t")[1:] for row in screen.inner_text("#scores").splitlines())}
    assert scores == {team_names[A]: 90, team_names[B]: 110, team_names[C]: 110}
    screen.screenshot(path=str(ARTIFACTS / "final-screen-revealed-1920.png"))
    host.screenshot(path=str(ARTIFACTS / "final-console-1366.png"))
    # 加赛 between the two tied teams: sudden-death 抢答
    host.check(f"#tiebreak-teams input[value='{_team_id(app, final_id, B)}']")
    host.check(f"#tiebreak-teams input[value='{_team_id(app, final_id, C)}']")
    step(lambda: host.click("#tiebreak"))
    step(click("open")); step(click("show")); step(click("start"))
    assert teams[A].is_disabled("#press") and teams[A].inner_text("#status-line") == "本轮加赛不含本队"
    step(press(C))
    before = [page.evaluate(SNAPSHOT) for page in pages]
    left_before = int(screen.get_attribute("#timer", "data-left"))
    assert team_names[C] + " 答题" in before[-1] and left_before > 10

    server.kill()  # mid-question
    for page in pages:
        page.wait_for_function("() => document.getElementById('live').dataset.connected === '0'", timeout=15000)
    killed_at = time.monotonic()
    server.start()
    for page in pages:
        page.wait_for_function("() => document.getElementById('live').dataset.connected === '1'", timeout=20000)
    wait_all(seq[0])
    after = [page.evaluate(SNAPSHOT) for page in pages]
    assert after == before  # scores, current question, press order, answer key on the host only
    left_after = int(screen.get_attribute("#timer", "data-left"))
    assert left_before - (time.monotonic() - killed_at) - 2 <= left_after <= left_before
    assert abs(int(host.get_attribute("#timer", "data-left")) - left_after) <= 1

    step(click("judge", "false")); step(click("reveal"))  # C wrong (no deduction in a 抢答 加赛): still tied
    # 加赛 by extra 风险题 between the same two teams: each in turn chooses its value on its buzzer
    host.check("input[name=tiebreak-mode][value=risk]")
    step(lambda: host.click("#tiebreak"))
    assert screen.inner_text("#tiebreak-line") == f"风险题加赛 · 第 1 轮：{team_names[B]}、{team_names[C]}"
    step(click("open"))  # B's turn (the final's team order)
    assert teams[B].locator("#risk-choice").is_visible() and teams[C].locator("#risk-choice").is_hidden()
    assert teams[C].inner_text("#status-line") == "加赛风险题：其他队伍选择分值中"
    assert teams[A].inner_text("#status-line") == "本轮加赛不含本队"
    assert screen.inner_text("#notice") == f"请{team_names[B]}选择风险分值"
    assert host.is_disabled("#steps button[data-kind=show]")
    teams[B].screenshot(path=str(ARTIFACTS / "final-buzzer-tiebreak-risk-360.png"))
    step(lambda: teams[B].get_by_role("button", name="20 分").click())
    assert "加赛风险题 · " + team_names[B] + " · 20 分" in screen.inner_text("#q-title")
    step(click("show"))
    assert teams[B].inner_text("#status-line") == "请本队作答（风险分值 20 分）"
    step(click("judge", "true")); step(click("reveal"))
    step(click("open"))  # C's turn
    assert teams[C].locator("#risk-choice").is_visible() and teams[B].locator("#risk-choice").is_hidden()
    step(lambda: teams[C].get_by_role("button", name="10 分").click())
    step(click("show")); step(click("judge", "false")); step(click("reveal"))
    assert screen.inner_text("#tiebreak-line").startswith("风险题加赛结束：已分出胜负")
    assert host.is_disabled("#steps button[data-kind=open]") and not host.is_disabled("#steps button[data-kind=finish]")
    screen.screenshot(path=str(ARTIFACTS / "final-screen-tiebreak-risk-1920.png"))
    step(click("finish"))
    assert screen.inner_text("#notice") == "冠军：" + team_names[B]
    screen.screenshot(path=str(ARTIFACTS / "final-screen-finished-1920.png"))
    with app.app_context():
        from quizapp.services.results import unit_leaderboard

        rows = unit_leaderboard(db.session.get(Final, final_id).round)
        assert [(r.rank, r.name, r.value) for r in rows] == [
            (1, team_names[B], 130.0), (2, team_names[C], 100.0), (3, team_names[A], 90.0)]


def _team_id(app, final_id, index):
    from quizapp.models import Final

    with app.app_context():
        return db.session.get(Final, final_id).teams[index].id
