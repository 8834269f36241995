"""Organizer result pages and their exports: the same columns and score text on the page, in
prize lists, CSV and XLSX; the tie-break column and rule wherever equal scores get different
ranks; file names and headers of downloads; the audit log in words; the correction report."""
import csv
import io
import re
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.formatting import TIE_RULE, format_score, score_number
from quizapp.models import Attempt, Correction, Round, User
from quizapp.services import awards, corrections, interventions, people
from quizapp.services.attempts import save_response, start_attempt, submit_attempt
from quizapp.services.teams import form_teams

from .conftest import csrf_from, login
from .test_attempts import correct_display

# username → (questions right, unit); judge questions are worth 2.5, so scores are 7.5, 5, 5, 2.5
PEOPLE = {"t1": (3, "甲"), "t2": (2, "乙"), "t3": (2, "丙"), "t4": (1, "丁")}


def take(round_, order, clock):
    """Everyone starts together; the i-th person submits after i+1 minutes (so ties differ in time)."""
    attempts = [start_attempt(round_, db.session.scalar(select(User).filter_by(username=u))) for u in order]
    for attempt, username in zip(attempts, order):
        for item in attempt.items[:PEOPLE[username][0]]:
            save_response(attempt, item.position, correct_display(item), False)
    for attempt in attempts:
        clock.advance(minutes=1)
        submit_attempt(attempt)


@pytest.fixture
def ranked(app, build, clock):
    """A closed round where t2 and t3 both score 5 and t2 was quicker; one prize per level."""
    build.bank()
    build.admin()
    for username, (_, unit) in PEOPLE.items():
        build.participant(username, unit=unit, name=f"人员{username}")
    round_id = build.round(sections=[{"type": "judge", "count": 3}], points={"judge": 2.5})
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        take(round_, list(PEOPLE), clock)
        round_.status = "closed"
        db.session.commit()
        awards.set_prizes(round_, {"individual": {"mode": "counts", "一等奖": 1, "二等奖": 1, "三等奖": 1},
                                   "unit": {"mode": "counts", "一等奖": 1, "二等奖": 1}})
    return round_id


def header_cells(html: str, table_index: int = 0) -> list[str]:
    heads = re.findall(r"<thead><tr>(.*?)</tr></thead>", html, re.S)
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th>(.*?)</th>", heads[table_index], re.S)]


def body_cells(html: str, table_index: int = 0) -> list[list[str]]:
    body = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)[table_index]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def xlsx_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_score_formatter():
    assert [format_score(v) for v in (90.0, 87.5, 87.25, 0, None, 35600.0, 1234567.5, -2.5)] == [
        "90", "87.5", "87.25", "0", "", "35600", "1234567.5", "-2.5"]
    assert score_number(90.0) == 90 and isinstance(score_number(90.0), int) and score_number(87.504) == 87.5


def test_pages_and_exports_share_columns_and_score_text(client, ranked):
    login(client, "admin")
    page = client.get(f"/admin/rounds/{ranked}/leaderboard").get_data(as_text=True)
    headers = header_cells(page)
    assert "奖项" in headers and "用时" in headers
    xlsx = xlsx_rows(client.get(f"/admin/rounds/{ranked}/export?by=participant&format=xlsx").data)
    table = csv_rows(client.get(f"/admin/rounds/{ranked}/export?by=participant&format=csv").data)
    assert list(xlsx[0]) == headers == table[0]
    score = headers.index("得分")
    web = body_cells(page)
    assert [row[score] for row in web] == [row[score] for row in table[1:]] == ["7.5", "5", "5", "2.5"]
    assert [row[score] for row in xlsx[1:]] == [7.5, 5, 5, 2.5] and isinstance(xlsx[2][score], int)
    prize = headers.index("奖项")
    assert [row[prize] for row in web] == [row[prize] for row in table[1:]] == ["一等奖", "二等奖", "三等奖", ""]
    assert [row[prize] for row in xlsx[1:4]] == ["一等奖", "二等奖", "三等奖"]

    units = client.get(f"/admin/rounds/{ranked}/units").get_data(as_text=True)
    unit_xlsx = xlsx_rows(client.get(f"/admin/rounds/{ranked}/export?by=unit&format=xlsx").data)
    unit_csv = csv_rows(client.get(f"/admin/rounds/{ranked}/export?by=unit&format=csv").data)
    assert header_cells(units) == list(unit_xlsx[0]) == unit_csv[0] and "奖项" in unit_csv[0]
    assert [row[2] for row in body_cells(units)] == [row[2] for row in unit_csv[1:]] == ["7.5", "5", "5", "2.5"]
    assert [row[-1] for row in unit_csv[1:]] == ["一等奖", "二等奖", "二等奖", ""]  # units tie: same rank, same prize

    prizes = client.get(f"/admin/rounds/{ranked}/prizes").get_data(as_text=True)
    printed = client.get(f"/admin/rounds/{ranked}/print/prizes").get_data(as_text=True)
    prize_xlsx = xlsx_rows(client.get(f"/admin/rounds/{ranked}/export?by=prize-participant&format=xlsx").data)
    for html in (prizes, printed):
        assert header_cells(html) == list(prize_xlsx[0])
        score = prize_xlsx[0].index("得分")
        assert [row[score] for row in body_cells(html)] == ["7.5", "5", "5"]
        assert "5.0" not in html and "7.50" not in html
    assert [row[prize_xlsx[0].index("得分")] for row in prize_xlsx[1:]] == [7.5, 5, 5]


def test_equal_scores_with_different_ranks_show_the_tie_break_and_its_rule(app, client, build, clock, ranked):
    login(client, "admin")
    page = client.get(f"/admin/rounds/{ranked}/leaderboard").get_data(as_text=True)
    assert TIE_RULE in page
    for url in (f"/admin/rounds/{ranked}/prizes", f"/admin/rounds/{ranked}/print/prizes"):
        html = client.get(url).get_data(as_text=True)
        assert TIE_RULE in html, url
        headers = header_cells(html)
        assert "用时" in headers and "交卷时间" in headers, url
        rows = body_cells(html)
        tied = [row for row in rows if row[headers.index("得分")] == "5"]
        # the same score, ranks 2 and 3, and the column that decided it
        assert [(r[0], r[1], r[headers.index("用时")]) for r in tied] == [("二等奖", "2", "2分00秒"), ("三等奖", "3", "3分00秒")]

    # A team round ranks equal team scores by time too: its page shows 用时 and the rule.
    with app.app_context():
        source = db.session.get(Round, ranked)
        team_round = build.round(open_=False, team_size=1, team_scoring="sum", sections=[{"type": "judge", "count": 3}],
                                 points={"judge": 2.5})
        round_ = db.session.get(Round, team_round)
        form_teams(round_)
        db.session.commit()
        from quizapp.services.rounds import open_round
        open_round(round_)
        take(round_, list(PEOPLE), clock)
        assert source.id == ranked
    units = client.get(f"/admin/rounds/{team_round}/units").get_data(as_text=True)
    headers = header_cells(units)
    assert "用时" in headers and TIE_RULE in units
    rows = body_cells(units)
    assert [(r[0], r[2], r[headers.index("用时")]) for r in rows[1:3]] == [("2", "5", "2分00秒"), ("3", "5", "3分00秒")]
    exported = csv_rows(client.get(f"/admin/rounds/{team_round}/export?by=unit&format=csv").data)
    assert exported[0] == headers and exported[2][headers.index("用时")] == "2分00秒"


def test_downloads_have_a_meaningful_ascii_name_and_one_content_type(client, ranked):
    login(client, "admin")
    cases = [(f"/admin/rounds/{ranked}/export?by={by}&format={fmt}", f"round-{ranked}-{ascii}.{fmt}", f"初赛-{title}.{fmt}")
             for by, ascii, title in (("participant", "leaderboard", "个人排名"), ("unit", "unit-leaderboard", "单位排名"),
                                      ("prize-participant", "prizes", "个人获奖名单"),
                                      ("prize-unit", "unit-prizes", "单位获奖名单"))
             for fmt in ("xlsx", "csv")]
    cases.append(("/admin/audit/export", "audit-log.xlsx", "操作日志.xlsx"))
    for url, fallback, name in cases:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.getlist("Content-Type") == [response.headers["Content-Type"]], url
        assert len([k for k, _ in response.headers if k.lower() == "content-type"]) == 1, url
        disposition = response.headers["Content-Disposition"]
        assert disposition == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}", url
        expected = "text/csv; charset=utf-8" if fallback.endswith(".csv") else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert response.headers["Content-Type"] == expected, url


def test_audit_log_is_written_in_words_on_the_page_and_in_the_export(app, client, ranked, clock):
    with app.app_context():
        round_ = db.session.get(Round, ranked)
        round_.status = "open"
        db.session.commit()
        person = db.session.scalar(select(User).filter_by(username="t4"))
        attempt = db.session.scalar(select(Attempt).filter_by(round_id=round_.id, user_id=person.id))
        interventions.reopen(attempt, 10, "误触交卷")
        interventions.extend(attempt, 5, "网络中断")
        people.update_person(person, "人员t4改", person.unit_id, "13800000000")
    login(client, "admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    exported = xlsx_rows(client.get("/admin/audit/export").data)
    assert list(exported[0]) == header_cells(page)
    texts = ["".join(body_cells(page)[i]) for i in range(len(exported) - 1)]
    words = [str(row[-1]) for row in exported[1:]]
    expected = ["把 人员t4（t4）在初赛的答题时间延长 5 分钟（原因：网络中断）",
                "重新开放 人员t4（t4）在初赛的试卷 10 分钟（原因：误触交卷），原为已交卷、得分 2.5",
                "修改人员 人员t4改（t4）：姓名 人员t4 → 人员t4改；手机 无 → 13800000000",
                "设置 初赛 的奖项：个人奖项 按名额：一等奖 1 名、二等奖 1 名、三等奖 1 名（原：未设置）"]
    for sentence in expected:
        assert any(sentence in w for w in words), sentence
        assert any(sentence in t for t in texts), sentence
    for text in words + texts:
        assert not re.search(r"[{}\[\]]|'\w+':|None|True|False", text), text


def test_correction_report_marks_changes_and_leaves_out_the_unchanged(app, client, ranked):
    login(client, "admin")
    with app.app_context():
        person = db.session.scalar(select(User).filter_by(username="t4"))
        item = db.session.scalar(select(Attempt).filter_by(user_id=person.id)).items[-1]  # t4 left it blank
        question_id, key = item.question_id, item.question.answer
    token = csrf_from(client.get(f"/admin/questions/{question_id}").get_data(as_text=True))
    response = client.post(f"/admin/questions/{question_id}/void", data={"csrf_token": token, "mode": "award",
                                                                         "reason": "题目有歧义"})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    with app.app_context():
        correction = db.session.scalars(select(Correction)).one()
        stored = correction.report
        # an older report may hold a row whose score and rank did not change
        correction.report = stored + [{"round": "初赛", "name": "人员未变", "username": "t0", "unit": "甲",
                                       "score_before": 5.0, "score_after": 5, "rank_before": 2, "rank_after": 2}]
        db.session.commit()
    html = client.get(location).get_data(as_text=True)
    assert "人员未变" not in html
    rows = corrections.report_rows(stored)
    assert rows and all(r["score_changed"] or r["rank_changed"] for r in rows)
    assert f"{len(rows)} 人的得分或名次发生变化" in html
    headers = header_cells(html)
    cells = body_cells(html)
    assert len(cells) == len(rows) and "变化" in headers
    for row, entry in zip(cells, rows):
        assert row[headers.index("变化")] == entry["change"]
        if entry["score_changed"]:
            assert f"<mark>{format_score(entry['score_after'])}</mark>" in html
            assert entry["change"].startswith("得分 +")
        else:
            assert row[headers.index("得分")].endswith("（未变）")


def test_a_round_edit_is_logged_as_what_changed(app, build, client):
    from datetime import timedelta

    from quizapp.services.rounds import RoundSpec, update_round

    from .conftest import START
    build.bank()
    build.admin()
    round_id = build.round(open_=False, sections=[{"type": "judge", "count": 2}])
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        update_round(round_, RoundSpec(competition_id=round_.competition_id, stage="初赛", name="初赛",
                                       opens_at=START + timedelta(hours=1), closes_at=START + timedelta(hours=2),
                                       time_limit_minutes=45, sections=[{"type": "judge", "count": 3}]))
    login(client, "admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "修改轮次 初赛：开始时间 2026-05-08 09:00 → 2026-05-08 10:00；答题时长 30 分钟 → 45 分钟；" \
           "抽题规则 判断题 2 道 → 判断题 3 道" in page
