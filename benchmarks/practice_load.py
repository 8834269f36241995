"""Benchmark 5: practice (练习) saves against the framework's floor, and a competition round
with and without a busy practice area beside it — all in one run, on one database.

    python benchmarks/practice_load.py --db sqlite
    python benchmarks/practice_load.py --db postgres --round-people 2000 --practisers 2000

Phases (requests/s, p50/p99, errors; wrk drives every loop, so the client does not limit the
server):
  practice_capacity  closed loop: --connections clients submit practice answers back to back;
                     every request answers a different, not yet answered item (the full path:
                     check, single-row UPDATE, 错题本 upsert for wrong answers — most answers are
                     random, hence wrong: the dearer case)
  round_capacity     the same closed loop of competition autosaves (for reference)
  floor              benchmarks/floor_app.py under the same settings and database: practice's
                     capacity is reported as a share of it (target ≥ 0.70); the two take turns,
                     twice, half of --seconds each, so the machine's drift falls on both
  round_alone        the round as people take it: each of --round-people a connection that saves,
                     then thinks --save-interval s on average (through nginx, as in production)
  round_with_practice  the same, while --practisers people practise beside it, each answering
                     every --practice-interval s on average (a second wrk, through the same nginx)
  round_with_practice_flood  the same round while practice runs a closed loop (the worst case)
Afterwards: practice answers acknowledged vs stored, and no competition score changed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import harness  # noqa: E402
from benchmarks.harness import PG_ADMIN, SECRET, USER_AGENT, Proxy, seed  # noqa: E402
from benchmarks.round_load import SECTIONS, WRK_REPORT, Load, _ms, save_requests, spike, wrk_closed_loop  # noqa: E402

ITEMS_PER_SET = 30


def database_url(kind: str) -> str:
    """A fresh database of its own (not harness's shared quizapp-bench, which another benchmark
    running at the same time would wipe): /tmp/quizapp-bench-practice or quizapp_bench_practice."""
    if kind == "sqlite":
        import shutil

        folder = Path(tempfile.gettempdir()) / "quizapp-bench-practice"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return f"sqlite:///{folder / 'bench.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS quizapp_bench_practice WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE quizapp_bench_practice"))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/quizapp_bench_practice"


class Server(harness.Server):
    """harness.Server, given up to 120 s to answer and then warmed: on a loaded two-core machine
    a cold worker's first request took over 10 s (imports on first use), longer than the
    harness's 30 s of 1-second probes allowed."""

    def __init__(self, app_spec: str, url: str, port: int, workers: int = 4):
        original = harness.answers
        harness.answers = lambda base, seconds: original(base, 120)
        try:
            super().__init__(app_spec, url, port, workers)
        finally:
            harness.answers = original
        for _ in range(workers * 4):  # every worker past its first request before measuring
            original(self.base, 30)


def prepare_practice(url: str, people, sets: int, rng: random.Random) -> list[tuple[int, int, int, str]]:
    """`sets` practice sets of 30 questions for each of `people`, made through the service (as
    the 开始练习 button does); returns every item as (set id, position, person index, a random
    valid response as JSON) in a shuffled order."""
    from sqlalchemy import select

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models import Question, User
    from quizapp.models.practice import PracticeItem
    from quizapp.services.practice import start_chapter
    from quizapp.services.practice_catalog import catalog

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    rows = []
    with app.app_context():
        biggest = max(catalog(), key=lambda d: sum(v.total for v in d.in_force))
        index = {p.user_id: n for n, p in enumerate(people)}
        for person in people:
            user = db.session.get(User, person.user_id)
            for _ in range(sets):
                start_chapter(user, biggest.name, None, None, ITEMS_PER_SET)
        for item, qtype, options, answer in db.session.execute(
                select(PracticeItem, Question.type, Question.options, Question.answer)
                .join(Question, Question.id == PracticeItem.question_id)):
            letters = [chr(ord("A") + i) for i in range(len(options))]
            if qtype == "single":
                value = rng.choice(letters)
            elif qtype == "multiple":
                value = sorted(rng.sample(letters, rng.randint(1, len(letters))))
            elif qtype == "judge":
                value = rng.random() < 0.5
            else:
                value = [rng.choice(["监察委员会", "人民代表大会", "五年"]) for _ in answer]
            rows.append((item.session_id, item.position, index[item.user_id], json.dumps(value, ensure_ascii=False)))
    rng.shuffle(rows)
    return rows


def wrk_practice(base: str, people, items, connections: int, seconds: float, think_ms: float = 0.0,
                 offset: int = 0) -> dict:
    """wrk (one thread, so one Lua state) sending the items in turn from `offset`: each request
    answers an item not answered before, until the list runs out (then `repeats` counts
    requests that met an answered item, which answer without writing)."""
    folder = Path(tempfile.gettempdir())
    people_file, items_file = folder / f"quizapp-practice-people-{offset}.txt", folder / f"quizapp-practice-items-{offset}.txt"
    # Read from files when wrk starts: tens of thousands of rows as Lua table constants exceed
    # LuaJIT's limits (the round benchmark samples 4,000 for that reason).
    people_file.write_text("".join(f"{p.cookie} {p.csrf}\n" for p in people), encoding="utf-8")
    items_file.write_text("".join(f"{s} {pos} {who + 1} {resp}\n" for s, pos, who, resp in items[offset:] + items[:offset]),
                          encoding="utf-8")
    script = folder / f"quizapp-practice-{offset}.lua"
    script.write_text(f"""local c, r = {{}}, {{}}
for line in io.lines("{people_file}") do
  local cookie, csrf = line:match("^(%S+) (%S+)$")
  c[#c + 1] = {{cookie, csrf}}
end
for line in io.lines("{items_file}") do
  local s, p, w, resp = line:match("^(%d+) (%d+) (%d+) (.*)$")
  r[#r + 1] = {{s, p, tonumber(w), resp}}
end
local n = 0
request = function()
  n = n + 1
  local x = r[((n - 1) % #r) + 1]
  local who = c[x[3]]
  local headers = {{["Content-Type"] = "application/json", ["User-Agent"] = "{USER_AGENT}",
                    ["Cookie"] = "session=" .. who[1], ["X-CSRFToken"] = who[2]}}
  return wrk.format("POST", "/practice/sessions/" .. x[1] .. "/answers", headers,
                    '{{"position":' .. x[2] .. ',"response":' .. x[4] .. '}}')
end
""" + ("" if not think_ms else f"""
math.randomseed(11)
delay = function()
  return math.floor(-math.log(1 - math.random()) * {think_ms})
end
"""), encoding="utf-8")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s", "--latency",
                          "-s", str(script), base], capture_output=True, text=True, timeout=seconds + 120).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    latency = WRK_REPORT.search(out)
    return {"requests": total, "errors": errors, "seconds": seconds, "repeats": max(0, total + offset - len(items)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _ms(latency.group(1), latency.group(2)), "p99_ms": _ms(latency.group(3), latency.group(4)),
            "client": "wrk"}


def with_session_version(url: str, people) -> None:
    """Add the session version (quizapp.access.SESSION_VERSION_KEY, set at every real sign-in)
    to the seeded cookies: harness.seed's login_user does not set it, and without it every
    request is signed out."""
    from quizapp import create_app
    from quizapp.access import SESSION_VERSION_KEY

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    serializer = app.session_interface.get_signing_serializer(app)
    for person in people:
        data = serializer.loads(person.cookie)
        data[SESSION_VERSION_KEY] = 0
        person.cookie = serializer.dumps(data)


def both(first, second) -> tuple[dict, dict]:
    """Run two wrk loops at the same time; returns their results."""
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        return a.result(), b.result()


def check(url: str, round_scores_before) -> dict:
    from sqlalchemy import func, select

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models.practice import PracticeItem, PracticeMistake

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        return {"practice_answers_stored": db.session.scalar(
                    select(func.count()).select_from(PracticeItem).where(PracticeItem.answered_at.is_not(None))),
                "mistake_book_entries": db.session.scalar(select(func.count()).select_from(PracticeMistake)),
                "competition_scores_unchanged": round_scores(url) == round_scores_before}


def round_scores(url: str):
    from sqlalchemy import select

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models import Attempt

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        return sorted(db.session.execute(select(Attempt.id, Attempt.score, Attempt.status)).all())


async def run(args) -> dict:
    url = database_url(args.db)
    started = time.perf_counter()
    round_id, everyone = seed(url, args.round_people + args.practisers, SECTIONS)
    with_session_version(url, everyone)
    in_round, practisers = everyone[:args.round_people], everyone[args.round_people:]
    rng = random.Random(5)
    result = {"db": args.db, "round_people": args.round_people, "practisers": args.practisers, "workers": args.workers}
    from benchmarks.floor_app import FloorUser, create_app as floor_app, db as floor_db
    with floor_app(url, SECRET).app_context():
        floor_db.create_all()
        floor_db.session.add_all([FloorUser(id=p.user_id, name=str(p.user_id)) for p in everyone])
        floor_db.session.commit()
    items = prepare_practice(url, practisers, args.sets, rng)
    result["practice_items"] = len(items)
    result["seed_seconds"] = round(time.perf_counter() - started, 1)
    server = Server("quizapp:create_app()", url, args.port, args.workers)
    floor = Server("benchmarks.floor_app:create_app()", url, args.port + 1, args.workers)
    try:
        connector = aiohttp.TCPConnector(limit=1000, force_close=True)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120),
                                         cookie_jar=aiohttp.DummyCookieJar()) as http:
            result["round_start"] = (await spike(Load(server.base, http), in_round, round_id, 2.0))["start"]
        ready = [p for p in in_round if p.attempt_id]
        saves = save_requests(ready, rng)
        bodies = [("/save", f"Cookie: session={p.cookie}", json.dumps({"position": n, "response": "A"}))
                  for p in practisers for n in range(1, 51)]
        # Warm every worker on every path first (a cold worker's first requests are slow).
        used = wrk_practice(server.base, practisers, items, 8, 3)["requests"]
        wrk_closed_loop(server.base, saves, 8, 3)
        wrk_closed_loop(floor.base, bodies, 8, 3)
        # Practice and the floor take turns, twice, half the time each: this virtual machine's
        # speed drifts within a minute, and alternating puts both under the same drift.
        half, turns = max(1, int(args.seconds / 2)), []
        for _ in range(2):
            practice = wrk_practice(server.base, practisers, items, args.connections, half, offset=used)
            used += practice["requests"]
            turns.append((practice, wrk_closed_loop(floor.base, bodies, args.connections, half)))
        result["capacity_turns"] = [{"practice_rps": a["rps"], "floor_rps": b["rps"]} for a, b in turns]
        result["practice_capacity"] = _joined([a for a, _ in turns])
        result["floor"] = _joined([b for _, b in turns])
        result["round_capacity"] = wrk_closed_loop(server.base, saves, args.connections, args.seconds)
    finally:
        floor.stop()
        server.stop()
    before = round_scores(url)
    server = Server("quizapp:create_app()", url, args.port + 2, args.workers)
    proxy = Proxy(args.port + 2, args.port + 3)
    try:
        def round_paced():
            return wrk_closed_loop(proxy.base, saves, len(ready), args.paced_seconds, think_ms=args.save_interval * 1000)

        result["round_alone"] = round_paced()
        time.sleep(2)
        result["round_with_practice"], result["practice_paced"] = both(round_paced, lambda: wrk_practice(
            proxy.base, practisers, items, len(practisers), args.paced_seconds, args.practice_interval * 1000, used))
        used += result["practice_paced"]["requests"]
        time.sleep(2)
        result["round_with_practice_flood"], result["practice_flood"] = both(round_paced, lambda: wrk_practice(
            proxy.base, practisers, items, args.connections, args.paced_seconds, 0, used))
    finally:
        proxy.stop()
        server.stop()
    result["practice_vs_floor"] = round(result["practice_capacity"]["rps"] / result["floor"]["rps"], 3)
    result["check"] = check(url, before)
    result["check"]["practice_answers_acknowledged"] = sum(
        result[k]["requests"] - result[k]["errors"] for k in ("practice_capacity", "practice_paced", "practice_flood"))
    return result


def _joined(loops: list[dict]) -> dict:
    """Several wrk loops of equal length as one: requests, errors and seconds added, the mean
    of their rates, the worst p50 and p99 (wrk gives no merged distribution)."""
    return {"requests": sum(loop["requests"] for loop in loops), "errors": sum(loop["errors"] for loop in loops),
            "repeats": sum(loop.get("repeats", 0) for loop in loops),
            "seconds": sum(loop["seconds"] for loop in loops),
            "rps": round(sum(loop["rps"] for loop in loops) / len(loops), 2), "p50_ms": max(loop["p50_ms"] for loop in loops),
            "p99_ms": max(loop["p99_ms"] for loop in loops)}


def main() -> None:
    parser = argparse.ArgumentParser(description="practice saves vs the floor; a round beside busy practice (loopback only)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--round-people", type=int, default=356)
    parser.add_argument("--practisers", type=int, default=500)
    parser.add_argument("--sets", type=int, default=2, help="30-question practice sets prepared per practiser")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0, help="each closed loop")
    parser.add_argument("--paced-seconds", type=float, default=30.0)
    parser.add_argument("--save-interval", type=float, default=2.0, help="mean seconds between a round participant's saves")
    parser.add_argument("--practice-interval", type=float, default=5.0, help="mean seconds between a practiser's answers")
    parser.add_argument("--port", type=int, default=18400)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    sys.exit(0 if result["check"]["competition_scores_unchanged"] else 1)


if __name__ == "__main__":
    main()
