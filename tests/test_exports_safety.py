"""No user text becomes a spreadsheet formula (OWASP CSV injection), in any export, XLSX or CSV.

People whose name, unit and 准考证号 begin with `=`, `+`, `-`, `@`, a tab or a carriage return
take a round; then every export the app offers is opened the way a spreadsheet would read it
(openpyxl for XLSX, the csv module for CSV) and every cell is checked.
"""
import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from quizapp.advancement import Rule
from quizapp.cli import cli
from quizapp.extensions import db
from quizapp.models import Round, User
from quizapp.services import advancing, awards, people
from quizapp.services.attempts import save_response, start_attempt, submit_attempt
from quizapp.spreadsheet import FORMULA_STARTS, write_csv, write_xlsx

from .conftest import login
from .test_attempts import correct_display

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]


def xlsx_cells(data) -> list:
    """Every cell of every sheet, as openpyxl reads it."""
    workbook = load_workbook(data if not isinstance(data, bytes) else io.BytesIO(data))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def assert_xlsx_safe(cells) -> list[str]:
    """No formula anywhere; every text cell that starts like a formula is a quote-prefixed string.
    Returns the text values, so a caller can check the payloads are really in the file."""
    assert cells
    texts = []
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            texts.append(cell.value)
            # XML turns a stored CR into LF when read, so "\r=1" comes back as "\n=1".
            if cell.value.startswith((*FORMULA_STARTS, "\n")):
                assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
    return texts


def assert_csv_safe(text: str) -> list[str]:
    """Every unquoted field is a number (QUOTE_NONNUMERIC reading fails on anything else) and no
    text field starts like a formula. Returns every field as text."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), quoting=csv.QUOTE_NONNUMERIC))
    fields = [field for row in rows for field in row]
    assert fields
    for field in fields:
        if isinstance(field, str):
            assert not field.startswith(FORMULA_STARTS), repr(field)
    return [field if isinstance(field, str) else f"{field:g}" for field in fields]


def assert_payloads_escaped_csv(fields: list[str], payloads=PAYLOADS) -> None:
    for payload in payloads:
        assert any(f == "'" + payload or f.startswith("'" + payload) for f in fields), payload


def assert_payloads_in_xlsx(texts: list[str], payloads=PAYLOADS) -> None:
    for payload in payloads:
        stored = payload.replace("\r", "\n")
        assert any(t == stored or t.startswith(stored) for t in texts), payload


def test_writers_keep_text_as_text_and_numbers_as_numbers(tmp_path):
    row = [*PAYLOADS, "-", "普通姓名", 90.0, 87.5, -2, 0, None]
    write_xlsx(tmp_path / "t.xlsx", "表", ["h"] * len(row), [row])
    cells = xlsx_cells(str(tmp_path / "t.xlsx"))
    assert_xlsx_safe(cells)
    values = [c.value for c in cells[len(row):]]
    assert values[:6] == [p.replace("\r", "\n") for p in PAYLOADS] and values[7] == "普通姓名"
    numbers = cells[len(row) + 8:len(row) + 12]
    assert [c.value for c in numbers] == [90, 87.5, -2, 0] and all(c.data_type == "n" for c in numbers)
    assert isinstance(values[8], int)  # 90, not 90.0

    write_csv(tmp_path / "t.csv", ["h"] * len(row), [row])
    text = (tmp_path / "t.csv").read_bytes().decode("utf-8-sig")
    fields = assert_csv_safe(text)[len(row):]
    assert fields[:6] == ["'" + p for p in PAYLOADS] and fields[6] == "'-" and fields[7] == "普通姓名"
    assert fields[8:12] == ["90", "87.5", "-2", "0"]
    assert text.split("\r\n")[1].endswith(',90,87.5,-2,0,""')  # numbers unquoted, so spreadsheets read numbers


@pytest.fixture
def hostile(app, build, clock):
    """A closed round taken by six people whose name, unit and 准考证号 each start like a formula,
    with prizes set, an advancement list for a second round, and audit events naming them."""
    build.bank()
    build.admin()
    for payload in PAYLOADS:
        build.participant(payload, unit=payload, name=payload)
    first = build.round(sections=[{"type": "judge", "count": 3}])
    with app.app_context():
        round_ = db.session.get(Round, first)
        second = Round(competition_id=round_.competition_id, seq=2, stage="复赛", name="复赛", opens_at=round_.opens_at,
                       closes_at=round_.closes_at + timedelta(days=1), time_limit_minutes=10, rules=round_.rules,
                       points=round_.points, seed="x")
        db.session.add(second)
        db.session.commit()
        for index, payload in enumerate(PAYLOADS):
            attempt = start_attempt(round_, db.session.scalar(select(User).filter_by(username=payload)))
            for item in attempt.items[:index % 4]:
                save_response(attempt, item.position, correct_display(item), False)
            clock.advance(seconds=30)
            submit_attempt(attempt)
        round_.status = "closed"
        db.session.commit()
        awards.set_prizes(round_, {"individual": {"mode": "counts", "一等奖": 3, "二等奖": 3},
                                   "unit": {"mode": "counts", "一等奖": 6}})
        advancing.confirm(round_, db.session.get(Round, second.id), Rule(top_n=6), {}, {})
        for payload in PAYLOADS:
            person = db.session.scalar(select(User).filter_by(username=payload))
            people.set_active(person, False, payload)
        return first, second.id


def test_every_web_export_writes_user_text_as_text(app, client, hostile):
    first, second = hostile
    login(client, "admin")
    downloads = [(first, by, fmt) for by in ("participant", "unit", "prize-participant", "prize-unit")
                 for fmt in ("xlsx", "csv")] + [(second, "qualified", "xlsx"), (second, "qualified", "csv")]
    for round_id, by, fmt in downloads:
        response = client.get(f"/admin/rounds/{round_id}/export?by={by}&format={fmt}")
        assert response.status_code == 200, (by, fmt)
        units_only = by in ("unit", "prize-unit")  # unit lists hold unit names only, which are the payloads too
        if fmt == "xlsx":
            assert_payloads_in_xlsx(assert_xlsx_safe(xlsx_cells(response.data)))
        else:
            fields = assert_csv_safe(response.data.decode("utf-8"))
            assert_payloads_escaped_csv(fields)
        if not units_only and fmt == "xlsx":
            # name, unit and 准考证号 columns all hold the payloads
            rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
            header = rows[0]
            for column in ("姓名", "准考证号", "单位"):
                values = {row[header.index(column)] for row in rows[1:]}
                assert values == {p.replace("\r", "\n") for p in PAYLOADS}, (by, column)
    audit = client.get("/admin/audit/export")
    texts = assert_xlsx_safe(xlsx_cells(audit.data))
    assert_payloads_in_xlsx(texts)


def test_cli_exports_and_roster_passwords_write_text(app, runner, hostile, tmp_path):
    for fmt in ("xlsx", "csv"):
        for by in ("participant", "unit"):
            output = tmp_path / f"{by}.{fmt}"
            result = runner.invoke(cli, ["export", "leaderboard", "--round", str(hostile[0]), "--by", by,
                                     "--format", fmt, "-o", str(output)])
            assert result.exit_code == 0, result.output
            if fmt == "xlsx":
                assert_payloads_in_xlsx(assert_xlsx_safe(xlsx_cells(str(output))))
            else:
                assert_payloads_escaped_csv(assert_csv_safe(output.read_bytes().decode("utf-8-sig")))

    roster = tmp_path / "roster.csv"
    with open(roster, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "单位", "准考证号"])
        for number, payload in enumerate(PAYLOADS, start=1):
            writer.writerow([f"{payload}名", f"{payload}局", f"{payload}{number}"])
    passwords = tmp_path / "passwords.csv"
    result = runner.invoke(cli, ["roster", "import", str(roster), "--passwords", str(passwords)])
    assert result.exit_code == 0, result.output
    fields = assert_csv_safe(passwords.read_bytes().decode("utf-8-sig"))
    # whatever the importer normalised (it may trim a leading tab), what starts like a formula is escaped
    escaped = [f for f in fields if f.startswith("'")]
    assert len(escaped) >= 3 * 4 and any(f.startswith("'=HYPERLINK") for f in escaped)
