"""Benchmark 5: the 体检 (health check) of a county-wide round.

    python benchmarks/health_scale.py --db postgres --participants 50000 --units 1500 --answers 100

Seeds the data of benchmarks/leaderboard_scale.py (one closed round, `participants` people in
`units` units, `answers` scored answers each, questions drawn from every shipped bank), then
times on the same database:
  - computing and keeping the whole report (quizapp.services.health.store_report);
  - the item analysis alone (facility, discrimination, efficiency over every answer);
  - reading the kept report, and the 体检 pages through the app once computed (organizer
    signed in): heatmap by document, by chapter, item analysis, most-missed questions, a unit's
    cell, a unit report, the study outline and the XLSX export;
  - recomputing after a correction (a key corrected on the question everyone answered).
The database is its own (`quizapp_bench_health`), so other benchmarks may run beside it.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.harness import PG_ADMIN, SECRET  # noqa: E402
from benchmarks.leaderboard_scale import seed, timed  # noqa: E402


def database_url(kind: str) -> str:
    if kind == "sqlite":
        folder = Path("/tmp/quizapp-bench-health")
        folder.mkdir(exist_ok=True)
        (folder / "bench.db").unlink(missing_ok=True)
        return f"sqlite:///{folder / 'bench.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS quizapp_bench_health WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE quizapp_bench_health"))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/quizapp_bench_health"


def main() -> None:
    parser = argparse.ArgumentParser(description="quizapp 体检 at scale")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--participants", type=int, default=50000)
    parser.add_argument("--units", type=int, default=1500)
    parser.add_argument("--answers", type=int, default=100)
    parser.add_argument("--out")
    parser.add_argument("--reuse", action="store_true", help="keep the database seeded by an earlier run (postgres)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models import Question, Round, User

    url = (PG_ADMIN.rsplit("/", 1)[0] + "/quizapp_bench_health") if args.reuse else database_url(args.db)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "SOURCES_DIR": str(Path(__file__).resolve().parents[2] / "shared" / "sources")})
    result = {"db": args.db, "participants": args.participants, "units": args.units, "answers": args.answers}
    with app.app_context():
        upgrade()
        from quizapp.services import corrections, health, health_scan
        from quizapp.services.accounts import hash_password
        if args.reuse:
            from sqlalchemy import select

            from quizapp.models import AttemptItem, Unit
            ids = {"round_id": db.session.scalar(select(Round.id).order_by(Round.id)),
                   "judge_id": db.session.scalar(select(AttemptItem.question_id).filter_by(attempt_id=1, position=1)),
                   "unit_id": db.session.scalars(select(Unit.id).order_by(Unit.id)).all()[7]}
        else:
            t = time.perf_counter()
            ids = seed(app, args.participants, args.units, args.answers)
            result["seed_seconds"] = round(time.perf_counter() - t, 1)
        if db.session.scalar(db.select(User.id).filter_by(username="admin")) is None:
            db.session.add(User(username="admin", name="管理员", role="admin",
                                password_hash=hash_password("admin-pass-1")))
            db.session.commit()
        round_ = db.session.get(Round, ids["round_id"])
        rounds = [round_]
        result["answers_total"] = args.participants * args.answers
        result["compute_ms"] = timed(lambda: health.store_report(rounds), repeat=2)[0]
        print(json.dumps(result, ensure_ascii=False), flush=True)

        def item_analysis():
            items = health._items(health_scan.scan(rounds))
            db.session.rollback()
            return items
        result["item_analysis_ms"], items = timed(item_analysis, repeat=2)
        result["items"] = len(items)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        result["read_kept_ms"] = timed(lambda: health.get_report(rounds).payload["version"])[0]
        payload = health.get_report(rounds).payload
        result["payload_bytes"] = len(json.dumps(payload, ensure_ascii=False).encode())
        doc, topic = payload["topics"][0]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "admin", "password": "admin-pass-1", "csrf_token": token})
    rid, unit = ids["round_id"], ids["unit_id"]

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(response.data)
    paths = {
        "heatmap_by_document": f"/admin/health?rounds={rid}",
        "heatmap_by_chapter": f"/admin/health/chapters?rounds={rid}&doc={doc}",
        "item_analysis": f"/admin/health/items?rounds={rid}",
        "most_missed_county": f"/admin/health/missed?rounds={rid}",
        "most_missed_unit_chapter": f"/admin/health/missed?rounds={rid}&unit={unit}&doc={doc}&topic={topic}",
        "unit_report": f"/admin/health/units/{unit}?rounds={rid}",
        "study_outline": f"/admin/health/outline?rounds={rid}",
        "xlsx_export": f"/admin/health/export?rounds={rid}",
    }
    get(paths["heatmap_by_document"])  # the sources are read once per process: not part of a page's time
    result["page_ms"] = {name: timed(lambda p=path: get(p))[0] for name, path in paths.items()}
    result["page_bytes"] = {name: get(path) for name, path in paths.items()}
    with app.app_context():
        question = db.session.get(Question, ids["judge_id"])
        begin = time.perf_counter()
        corrections.correct_key(question, "错误" if question.answer else "正确", "规模测试：更正答案")
        result["correction_seconds"] = round(time.perf_counter() - begin, 2)
        begin = time.perf_counter()
        health.get_report([db.session.get(Round, rid)])
        result["recompute_after_correction_ms"] = round((time.perf_counter() - begin) * 1000, 1)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
