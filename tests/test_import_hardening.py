"""Imports an attacker or a county office would try: YAML bombs, oversized or mislabeled files,
GBK CSVs, lying XLSX dimensions, title rows, missing 准考证号, duplicate people, long names —
on the web and the CLI — and the speed and timing of initial passwords (issue 9, items 3 and 8)."""
from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from quizapp.banks.loader import load_bank
from quizapp.cli import cli
from quizapp.extensions import db
from quizapp.models import Bank, Unit, User
from quizapp.services import accounts

from .conftest import SAMPLE_BANK, csrf_from, login

PRODUCTION_HASH = "scrypt:32768:8:3"


def bomb_yaml(levels: int) -> str:
    """A bank whose `type` is a tower of aliases: `levels` levels of 9 references each."""
    lines = ["bank: {id: bomb, title: 炸弹}", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    lines.append(f"questions:\n  - id: q1\n    type: *a{levels}\n    difficulty: 1")
    return "\n".join(lines) + "\n"


def xlsx_bytes(rows, title: str | None = None, merge: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
        if merge:
            sheet.merge_cells(merge)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """The same workbook with sheet1's `<dimension ref=…>` replaced by `ref` (a lie)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), content)
                assert f'<dimension ref="{ref}"'.encode() in content
            target.writestr(item, content)
    return out.getvalue()


def people_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User).where(User.role == "participant"))


def organizer(client, build) -> str:
    build.admin()
    login(client, "admin")
    return csrf_from(client.get("/admin/people").get_data(as_text=True))


def upload(client, token, data: bytes, name: str, **fields):
    form = {"csrf_token": token, "create_units": "1", "file": (io.BytesIO(data), name), **fields}
    return client.post("/admin/people/import", data=form, content_type="multipart/form-data", follow_redirects=True)


def confirm(client, token, page: str, **fields):
    action = re.search(r'action="(/admin/people/import/[^"]+)"', page).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="(number_prefix|number_width|original|create_units)" value="([^"]*)"', page))
    return client.post(action, data={"csrf_token": token, **hidden, **fields})


# --- YAML and bank files ---------------------------------------------------------------------

def test_alias_bomb_is_refused_before_anything_is_built(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb_yaml(5), encoding="utf-8")
    started = time.perf_counter()
    bank = load_bank(path)
    assert time.perf_counter() - started < 1
    assert not bank.questions and len(bank.errors) == 1
    error = str(bank.errors[0])
    assert error.startswith(f"{path}:2:") and "不允许使用 YAML 锚点（&a0）" in error


def test_merge_keys_with_anchors_are_refused(tmp_path):
    text = SAMPLE_BANK.read_text("utf-8")
    merged = text.replace("questions:", "defaults: &d {difficulty: 1}\nquestions:", 1)
    path = tmp_path / "merge.yaml"
    path.write_text(merged, encoding="utf-8")
    assert "不允许使用 YAML 锚点（&d）" in str(load_bank(path).errors[0])


def test_oversized_bank_file_is_refused_unread(tmp_path, monkeypatch):
    import quizapp.banks.loader as loader

    monkeypatch.setattr(loader, "MAX_BANK_BYTES", 1000)
    bank = load_bank(SAMPLE_BANK)
    assert len(bank.errors) == 1 and not bank.questions
    assert "文件过大" in bank.errors[0].message and "请拆分为多个文件" in bank.errors[0].message


def test_cli_lint_and_import_refuse_a_full_size_bomb_in_one_chinese_line(app, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb_yaml(7), encoding="utf-8")  # ~500 bytes; expanded, ~40 MB of text (9 levels: ~600 bytes, ~3 GB, as in issue 9)
    runner = app.test_cli_runner()
    for command in (["bank", "lint", str(path)], ["bank", "import", str(path)]):
        started = time.perf_counter()
        result = runner.invoke(cli, command, catch_exceptions=False)
        assert time.perf_counter() - started < 5
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{path}:2: 不允许使用 YAML 锚点（&a0）" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bank)) == 0


def test_browser_bank_upload_refuses_a_bomb_and_keeps_file_names(app, client, build):
    token = organizer(client, build)
    bomb = client.post("/admin/banks/upload", data={"csrf_token": token, "file": [(io.BytesIO(bomb_yaml(7).encode()), "炸弹.yaml")]},
                       content_type="multipart/form-data")
    page = bomb.get_data(as_text=True)
    assert bomb.status_code == 200 and "炸弹.yaml:2: 不允许使用 YAML 锚点（&amp;a0）" in page and "未导入" in page
    # The second bank repeats the first's questions, so each pair shares a group (lint refuses
    # near-duplicates that could share a paper).
    first = re.sub(r"  - id: t-(\d+)\n", r"  - id: t-\1\n    group: pair-\1\n", SAMPLE_BANK.read_text("utf-8"))
    second = first.replace("id: test-sample", "id: second-bank").replace("t-00", "s-00").replace("stem: ", "stem: 另一题：")
    files = [(io.BytesIO(first.encode()), "监察法题库.yaml"), (io.BytesIO(second.encode()), "第二个题库.yml")]
    ok = client.post("/admin/banks/upload", data={"csrf_token": token, "file": files}, content_type="multipart/form-data")
    text = ok.get_data(as_text=True)
    assert "检查通过" in text and "监察法题库.yaml" in text and "第二个题库.yml" in text
    action = re.search(r'action="(/admin/banks/import/[^"]+)"', text).group(1)
    done = client.post(action, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "已导入：新增 24" in done
    with app.app_context():
        assert dict(db.session.execute(select(Bank.slug, Bank.file_name)).all()) == {
            "test-sample": "监察法题库.yaml", "second-bank": "第二个题库.yml"}


def test_browser_bank_upload_refuses_an_oversized_file_with_a_flash(app, client, build):
    token = organizer(client, build)
    big = b"# padding\n" * (4 * 1024 * 1024 // 10 + 10)
    response = client.post("/admin/banks/upload", data={"csrf_token": token, "file": [(io.BytesIO(big), "大.yaml")]},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200 and "大.yaml 超过 4 MB，请拆分为多个文件后上传" in response.get_data(as_text=True)


def test_request_bodies_are_capped(app, client, build):
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    token = organizer(client, build)
    response = upload(client, token, b"x" * (17 * 1024 * 1024), "名单.csv")
    assert response.status_code == 413
    assert people_count(app) == 0


# --- Bad roster files ------------------------------------------------------------------------

HEAD = ["姓名", "单位", "准考证号"]


@pytest.mark.parametrize("case", ["renamed", "gbk", "utf16", "binary_csv", "too_long", "too_many_rows"])
def test_bad_rosters_get_one_chinese_message_and_write_nothing(app, client, build, runner, tmp_path, monkeypatch, case):
    if case == "too_many_rows":
        monkeypatch.setattr("quizapp.services.rosters.MAX_ROWS", 5)
    name, data, expected = {
        "renamed": ("名单.xlsx", "姓名,单位,准考证号\n王一,县财政局,A1\n".encode(), "不是有效的 XLSX 文件"),
        "gbk": ("名单.csv", "姓名,单位,准考证号\n王一,县财政局,A1\n".encode("gbk"), "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”"),
        "utf16": ("名单.csv", "姓名\t单位\n".encode("utf-16"), "UTF-16"),
        "binary_csv": ("名单.csv", xlsx_bytes([HEAD]), "这是 Excel 工作簿（XLSX），请把扩展名改为 .xlsx"),
        "too_long": ("名单.xlsx", xlsx_bytes([HEAD + ["手机号码"], ["张" * 65, "县财政局", "A1", "1"], ["李四", "单" * 101, "A2", "1"],
                                              ["王五", "县财政局", "A3", "1" * 33], ["赵六", "县财政局", "A" * 65, ""],
                                              ["钱七", "县财政局", "A5", ""], ["孙八", "县" * 101, "A6", ""]]),
                     "名单.xlsx 第 2 行：姓名超过 64 个字"),
        "too_many_rows": ("名单.xlsx", xlsx_bytes([HEAD] + [[f"人{i}", "县财政局", f"A{i}"] for i in range(7)]), "超过 5 行"),
    }[case]
    token = organizer(client, build)
    page = upload(client, token, data, name).get_data(as_text=True)
    assert expected in page and "Traceback" not in page and "确认导入" not in page
    if case == "too_long":
        assert "名单.xlsx 第 3、7 行：单位超过 100 个字" in page and "第 4 行：手机超过 32 个字" in page
        assert "第 5 行：准考证号超过 64 个字" in page
    path = tmp_path / name
    path.write_bytes(data)
    result = runner.invoke(cli, ["roster", "import", str(path), "--passwords", str(tmp_path / "p.csv")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert expected in result.output and "Traceback" not in result.output
    assert people_count(app) == 0


def test_xlsx_rows_are_read_whatever_the_dimension_claims(app, ctx, tmp_path):
    data = xlsx_bytes([HEAD] + [[f"人员{i}", "县财政局", f"D{i}"] for i in range(1, 6)])
    short = tmp_path / "short.xlsx"
    short.write_bytes(with_dimension(data, "A1:C2"))  # claims one person; there are five
    assert [r.username for r in accounts.read_roster(short).rows] == ["D1", "D2", "D3", "D4", "D5"]
    huge = tmp_path / "huge.xlsx"
    huge.write_bytes(with_dimension(data, "A1:XFD1048576"))  # claims 17 billion cells
    started = time.perf_counter()
    report = accounts.read_roster(huge)
    assert time.perf_counter() - started < 3 and len(report.rows) == 5 and not report.errors


def test_xlsx_that_unpacks_too_large_is_refused(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr("quizapp.services.rosters.MAX_UNPACKED_BYTES", 1000)
    path = tmp_path / "zip.xlsx"
    path.write_bytes(xlsx_bytes([HEAD, ["王一", "县财政局", "A1"]]))
    assert "解压后超过" in accounts.read_roster(path).errors[0]


# --- Rosters as offices have them --------------------------------------------------------------

def test_title_row_generated_numbers_phone_and_duplicates(app, client, build):
    build.participant("KS0007", unit="县财政局", name="李四")  # numbering continues after KS0007
    token = organizer(client, build)
    rows = [["序号", "姓 名", "*单位", "手机号码（选填）"], [1, "张  三", "县财政局", 13800000001.0], [2, "", "县财政局", None],
            [3, "王五", "城关镇", "13800000003"], [4, "张三", "县财政局", ""], [5, "", "城关镇", ""], [6, "李四", "县财政局", ""]]
    data = xlsx_bytes(rows, title="2026 年党纪知识竞赛参赛人员名单", merge="A1:D1")
    refused = upload(client, token, data, "名单.xlsx").get_data(as_text=True)
    assert "名单.xlsx 第 4、7 行：姓名为空" in refused and refused.count("姓名为空") == 1
    rows = [r for r in rows if r[1]]
    page = upload(client, token, xlsx_bytes(rows, title="2026 年党纪知识竞赛参赛人员名单", merge="A1:D1"), "名单.xlsx").get_data(as_text=True)
    assert "检查通过：4 人" in page and "表头在第 2 行" in page
    assert "将由系统编号：KS0008–KS0011" in page
    assert "名单.xlsx 第 5 行：姓名和单位与前面的行相同，请确认不是重复录入：张三（县财政局）同第 3 行" in page
    assert "第 6 行：系统中已有同单位同名人员，请确认不是重复导入：李四（县财政局，已有准考证号 KS0007）" in page
    assert people_count(app) == 1  # nothing written before confirming
    confirm(client, token, page)
    with app.app_context():
        people = {u.username: (u.name, u.unit.name, u.phone) for u in db.session.scalars(select(User).where(User.username != "KS0007")
                                                                                          .where(User.role == "participant"))}
    assert people == {"KS0008": ("张三", "县财政局", "13800000001"), "KS0009": ("王五", "城关镇", "13800000003"),
                      "KS0010": ("张三", "县财政局", None), "KS0011": ("李四", "县财政局", None)}


def test_missing_column_is_named_and_custom_numbering(app, client, build):
    token = organizer(client, build)
    no_unit = upload(client, token, xlsx_bytes([["参赛人员花名册"], ["姓名", "职务"], ["王一", "科员"]]), "名单.xlsx")
    assert "名单.xlsx：前 10 行中找不到表头，缺少“单位”列" in no_unit.get_data(as_text=True)
    page = upload(client, token, "姓名,工作单位,联系电话\n王一,县财政局,139\n".encode("utf-8-sig"), "名单.csv",
                  number_prefix="2026-", number_width="3").get_data(as_text=True)
    assert "将由系统编号：2026-001–2026-001" in page
    confirm(client, token, page)
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="2026-001"))
        assert user.phone == "139" and user.unit.name == "县财政局"
    bad = upload(client, token, b"a,b\n", "x.csv", number_prefix="含 空格").get_data(as_text=True)
    assert "前缀只能由字母、数字和连字符组成" in bad


def test_cli_generates_numbers_with_a_prefix(app, runner, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text("单位名称,姓名\n县财政局,王一\n县财政局,李二\n", encoding="utf-8")
    out = tmp_path / "p.csv"
    result = runner.invoke(cli, ["roster", "import", str(path), "--number-prefix", "CZ", "--passwords", str(out)],
                           catch_exceptions=False)
    assert result.exit_code == 0 and "准考证号 CZ0001–CZ0002 由系统生成" in result.output
    assert "CZ0002" in out.read_text("utf-8-sig")


# --- Initial passwords: fast to issue, same cost to check ------------------------------------------

def test_verify_password_costs_one_configured_hash_in_every_case(app, ctx, monkeypatch):
    calls = []
    real = accounts.check_password_hash

    def counting(stored, password):
        calls.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    method = app.config["PASSWORD_HASH_METHOD"]
    chosen = User(username="admin1", name="管理员", role="admin", password_hash=accounts.hash_password("chosen-pass"))
    initial = User(username="A001", name="王一", role="participant")
    password = accounts.issue_initial_password(initial)
    assert initial.password_hash.startswith("initial$") and password not in initial.password_hash
    accounts.verify_password(None, "warm-up")  # the dummy hash is made once per process
    cases = [(None, "whatever", False), (chosen, "wrong", False), (chosen, "chosen-pass", True),
             (initial, "wrong", False), (initial, password, True)]
    for user, attempt, expected in cases:
        calls.clear()
        assert accounts.verify_password(user, attempt) is expected
        assert calls == [method], (user and user.username, attempt)
    # The hash is bound to the admission number: copied onto another account it does not work.
    other = User(username="A002", name="李二", role="participant", password_hash=initial.password_hash)
    assert not accounts.verify_password(other, password)


def test_initial_passwords_survive_a_key_rotation_with_fallbacks(app, ctx):
    user = User(username="A001", name="王一", role="participant")
    password = accounts.issue_initial_password(user)
    old = app.config["SECRET_KEY"]
    try:
        app.config.update(SECRET_KEY="a-new-secret-key-0123456789", SECRET_KEY_FALLBACKS=[old])
        assert accounts.verify_password(user, password) and accounts.unseal_initial(user.initial_password_enc) == password
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert not accounts.verify_password(user, password)
    finally:
        app.config.update(SECRET_KEY=old, SECRET_KEY_FALLBACKS=[])


def test_400_people_import_through_the_web_with_production_scrypt(app, client, build, capsys):
    token = organizer(client, build)
    rows = [["姓名", "单位", "准考证号", "手机"]] + [[f"参赛人员{i}", f"单位{i % 89}", f"P{i:04d}", f"1380000{i:04d}"]
                                                 for i in range(1, 401)]
    data = xlsx_bytes(rows)
    app.config["PASSWORD_HASH_METHOD"] = PRODUCTION_HASH
    try:
        started = time.perf_counter()
        page = upload(client, token, data, "全县名单.xlsx").get_data(as_text=True)
        assert "检查通过：400 人" in page
        done = confirm(client, token, page)
        elapsed = time.perf_counter() - started
        assert done.status_code == 302 and "/admin/slips" in done.headers["Location"]
        with capsys.disabled():
            print(f"\n400-person web import (report + confirm) with {PRODUCTION_HASH}: {elapsed:.2f} s")
        assert elapsed < 15, f"{elapsed:.1f} s: gunicorn's default worker timeout is 30 s"
        assert people_count(app) == 400
        with app.app_context():
            sealed = dict(db.session.execute(select(User.username, User.initial_password_enc)
                                             .where(User.username.in_(["P0001", "P0200", "P0400"]))).all())
            printed = {username: accounts.unseal_initial(value) for username, value in sealed.items()}
            assert db.session.scalar(select(func.count()).select_from(Unit)) == 89
        for username, password in printed.items():
            person = app.test_client()
            response = login(person, username, password)
            assert response.status_code == 302 and "/login" not in response.headers["Location"], username
        assert login(app.test_client(), "P0001", "wrong-password").status_code == 200
    finally:
        app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
