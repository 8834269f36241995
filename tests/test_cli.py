"""The `quizapp` commands: banks, rosters, exports, demo; one-line errors, non-zero exits."""
import csv
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from quizapp.cli import cli
from quizapp.extensions import db
from quizapp.models import Attempt, AuditEvent, Round, Team, Unit, User

from .conftest import SAMPLE_BANK, SOURCES

PROJECT = Path(__file__).resolve().parents[1]


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_bank_lint_passes_and_fails_with_located_errors(runner, tmp_path):
    ok = run(runner, "bank", "lint", "--sources", str(SOURCES), str(SAMPLE_BANK))
    assert ok.exit_code == 0 and "12 道题" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(SAMPLE_BANK.read_text("utf-8").replace("article: 7,", "article: 8,"), encoding="utf-8")
    failed = run(runner, "bank", "lint", "--sources", str(SOURCES), str(bad))
    assert failed.exit_code == 1
    assert f"{bad}:9: [t-0001] source.basis 不是第 8 条原文的逐字摘录" in failed.output
    assert "Traceback" not in failed.output


def test_bank_import_reports_counts(app, runner):
    first = run(runner, "bank", "import", str(SAMPLE_BANK))
    assert first.exit_code == 0 and "新增 12" in first.output
    assert "未变 12" in run(runner, "bank", "import", str(SAMPLE_BANK)).output


def write_xlsx(path: Path, rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_roster_import_writes_people_and_passwords(app, runner, tmp_path, kind):
    rows = [["姓名", "单位", "准考证号", "手机"], ["王一", "县财政局", "A001", "13800000000"],
            ["李二", "县财政局", "A002", None], ["赵三", "城关镇", "A003", ""]]
    roster = tmp_path / f"roster.{kind}"
    if kind == "csv":
        roster.write_text("\n".join(",".join(c or "" for c in r) for r in rows), encoding="utf-8-sig")
    else:
        write_xlsx(roster, rows)
    out = tmp_path / "passwords.csv"
    result = run(runner, "roster", "import", str(roster), "--passwords", str(out))
    assert result.exit_code == 0 and "已导入 3 人（新建单位 2 个）" in result.output
    issued = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert issued[0] == ["姓名", "单位", "准考证号", "初始密码"] and len(issued) == 4
    from quizapp.services.accounts import verify_password
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="A001"))
        assert user.unit.name == "县财政局" and user.phone == "13800000000"
        assert verify_password(user, issued[1][3]) and issued[1][3] not in user.password_hash


def test_roster_with_errors_writes_nothing_and_names_rows(app, runner, tmp_path):
    roster = tmp_path / "roster.xlsx"
    write_xlsx(roster, [["姓名", "单位", "准考证号"], ["王一", "县财政局", "A001"], ["", "县财政局", "A002"],
                        ["李二", "县财政局", "A001"]])
    result = run(runner, "roster", "import", str(roster), "--passwords", str(tmp_path / "p.csv"))
    assert result.exit_code == 1
    assert "第 3 行：姓名为空" in result.output and "第 4 行：准考证号与前面的行重复：A001 同第 2 行" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
    headerless = tmp_path / "bad.csv"
    headerless.write_text("name,unit\nx,y\n", encoding="utf-8")
    assert "表头必须包含" in run(runner, "roster", "import", str(headerless)).output


def test_create_admin_and_export_errors(app, runner):
    assert run(runner, "create-admin", "--username", "boss", "--password", "long-enough-1").exit_code == 0
    again = run(runner, "create-admin", "--username", "boss", "--password", "long-enough-1")
    assert again.exit_code == 1 and "已存在" in again.output
    missing = run(runner, "export", "leaderboard", "--round", "999")
    assert missing.exit_code == 1 and "轮次 999 不存在" in missing.output


def test_demo_with_simulation_gives_a_ranked_preliminary(app, runner, tmp_path):
    result = run(runner, "demo", "--simulate")
    assert result.exit_code == 0, result.output
    assert "组织者登录：用户名 admin" in result.output and "参赛人员登录：准考证号 20180001" in result.output
    assert "练习：每位参赛人员登录后即可在「练习」中" in result.output and "学习自测" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 89
        assert db.session.scalar(select(func.count()).select_from(User).filter_by(role="participant")) == 356
        rounds = db.session.scalars(select(Round).order_by(Round.id)).all()
        assert [(r.stage, r.status, bool(r.published_at)) for r in rounds] == [
            ("初赛", "closed", True), ("复赛", "closed", True), ("决赛", "closed", True)]  # practice is not a round
        preliminary, semifinal, final = rounds[:3]
        took_part = db.session.scalar(select(func.count()).select_from(Attempt).filter_by(round_id=preliminary.id))
        assert semifinal.restricted and len(semifinal.entrants) >= 280
        # The 8 best units field teams; a unit tied for 8th place fields one too.
        assert final.is_team and db.session.scalar(select(func.count()).select_from(Team)) >= 8
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"question.void", "advance.confirm", "round.prizes", "round.publish"} <= actions
        from quizapp.services.awards import prize_table
        assert len(prize_table(semifinal, "participant")[1]) >= 30 and len(prize_table(final, "unit")[1]) >= 8
    units_file, people_file = tmp_path / "units.xlsx", tmp_path / "people.xlsx"
    assert run(runner, "export", "leaderboard", "--by", "unit", "--format", "xlsx", "-o", str(units_file)).exit_code == 0
    units = list(load_workbook(units_file).active.iter_rows(values_only=True))[1:]
    assert len(units) == 89 and units[0][0] == 1 and units[-1][0] == "—" and units[-1][4] == 0
    assert run(runner, "export", "leaderboard", "--by", "participant", "-o", str(people_file)).exit_code == 0
    people = list(load_workbook(people_file).active.iter_rows(values_only=True))[1:]
    assert len(people) == took_part > 300
    scores = [row[4] for row in people]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 10
    assert run(runner, "demo").output.startswith("演示数据已存在")


def test_bank_stats_counts_by_type_difficulty_and_topic(runner):
    result = run(runner, "bank", "stats", str(SAMPLE_BANK))
    assert result.exit_code == 0
    assert "共 12 题" in result.output and "单选题 4，多选题 3，判断题 3，填空题 2" in result.output
    assert "单选题按难度：1 级 2，2 级 2，3 级 0" in result.output
    topic_line = next(line for line in result.output.splitlines() if line.strip().startswith("监察机关及其职责"))
    assert topic_line.split()[-5:] == ["3", "1", "1", "0", "5"]


def test_roster_group_column_sets_unit_groups(app, runner, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,单位,准考证号,分组\n王一,城关镇,G1,乡镇\n李二,县财政局,G2,县直部门\n", encoding="utf-8")
    assert run(runner, "roster", "import", str(roster), "--passwords", str(tmp_path / "p.csv")).exit_code == 0
    with app.app_context():
        groups = dict(db.session.execute(select(Unit.name, Unit.group_name)).all())
    assert groups == {"城关镇": "乡镇", "县财政局": "县直部门"}
