"""Benchmark 7: a roster of 48,000 members through the browser's path, end to end.

    python benchmarks/roster_scale.py --db sqlite
    python benchmarks/roster_scale.py --db postgres

Generates a 48,000-row XLSX with openpyxl (姓名, 单位 in 1,474 branches, 准考证号, 手机), then as an
organizer: uploads it (the request that reads and checks it and shows the report), confirms
(the request only starts the job) and waits for the background job (the embedded thread
backend; `quizapp worker` runs the same function), printing the seconds of each step. It then
checks that 48,000 people were written and that a printed initial password signs in. The
process's CPU seconds and the machine's load average are printed too: on a shared machine the
wall-clock figures grow with other processes' load, the CPU seconds do not.
The database is this benchmark's own (SQLite in /tmp/quizapp-bench-jobs, PostgreSQL
`quizapp_bench_jobs`), created afresh.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.harness import PG_ADMIN, SECRET  # noqa: E402

FOLDER = Path(tempfile.gettempdir()) / "quizapp-bench-jobs"


def database_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{FOLDER / 'bench.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS quizapp_bench_jobs WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE quizapp_bench_jobs"))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/quizapp_bench_jobs"


def make_roster(path: Path, people: int, units: int) -> float:
    """A roster as a county office would send it; returns the seconds openpyxl took."""
    from openpyxl import Workbook

    start = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(["姓名", "单位", "准考证号", "手机号码"])
    for i in range(1, people + 1):
        sheet.append([f"党员{i:05d}", f"第{(i % units) + 1:04d}党支部", f"DY{i:06d}", f"139{i:08d}"])
    book.save(path)
    return time.perf_counter() - start


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=48_000)
    parser.add_argument("--units", type=int, default=1_474)
    parser.add_argument("--out")
    args = parser.parse_args()
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir()
    roster = FOLDER / "全县党员名单.xlsx"
    generate_seconds = make_roster(roster, args.people, args.units)

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models import Job, User
    from quizapp.services import accounts
    from quizapp.services import jobs as job_service

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.db), "SECRET_KEY": SECRET,
                      "JOBS_BACKEND": "thread", "PASSWORD_HASH_METHOD": "scrypt:32768:8:3"})
    with app.app_context():
        upgrade()
        accounts.create_admin("bench-admin", "管理员", "bench-admin-password")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "bench-admin", "password": "bench-admin-password", "csrf_token": csrf(page)})
    token = csrf(client.get("/admin/people").get_data(as_text=True))

    load_before, cpu_start = os.getloadavg()[0], time.process_time()
    start = time.perf_counter()
    report = client.post("/admin/people/import", content_type="multipart/form-data", data={
        "csrf_token": token, "create_units": "1", "file": (io.BytesIO(roster.read_bytes()), roster.name)})
    report_seconds = time.perf_counter() - start
    html = report.get_data(as_text=True)
    assert f"检查通过：{args.people} 人" in html, html[:2000]
    action = re.search(r'action="(/admin/people/import/[^"]+)"', html).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="(number_prefix|number_width|original|create_units)" value="([^"]*)"', html))

    start = time.perf_counter()
    confirmed = client.post(action, data={"csrf_token": token, **hidden})
    confirm_seconds = time.perf_counter() - start
    job_id = int(confirmed.headers["Location"].rsplit("/", 1)[1])
    polls = 0
    while True:  # as job.js does, but every 0.2 s
        status = client.get(f"/admin/jobs/{job_id}/status").get_json()
        polls += 1
        if status["finished"]:
            break
        time.sleep(0.2)
    job_seconds = time.perf_counter() - start
    job_service.join_threads()
    cpu_seconds = time.process_time() - cpu_start  # this process, all threads: report + job + polls

    with app.app_context():
        job = db.session.get(Job, job_id)
        written = db.session.scalar(select(func.count()).select_from(User).where(User.role == "participant"))
        sealed = db.session.scalar(select(User.initial_password_enc).filter_by(username=f"DY{args.people:06d}"))
        password = accounts.unseal_initial(sealed)
    person = app.test_client()
    page = person.get("/login").get_data(as_text=True)
    signed_in = person.post("/login", data={"username": f"DY{args.people:06d}", "password": password,
                                            "csrf_token": csrf(page)}).status_code == 302
    result = {"db": args.db, "people": args.people, "units": args.units, "job_status": job.status,
              "written": written, "generate_xlsx_seconds": round(generate_seconds, 2),
              "xlsx_bytes": roster.stat().st_size, "upload_and_report_seconds": round(report_seconds, 2),
              "confirm_request_seconds": round(confirm_seconds, 3), "job_seconds": round(job_seconds, 2),
              "report_plus_job_seconds": round(report_seconds + job_seconds, 2), "progress_polls": polls,
              "printed_password_signs_in": signed_in, "process_cpu_seconds": round(cpu_seconds, 2),
              "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)]}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    assert job.status == "done" and written == args.people and signed_in, result


if __name__ == "__main__":
    main()
