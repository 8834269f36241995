"""Benchmark 1 and 2: a whole round over HTTP against gunicorn, and the framework's floor.

    python benchmarks/round_load.py --db sqlite --participants 356 --save-interval 2
    python benchmarks/round_load.py --db postgres --participants 2000 --save-interval 5 --trickle 2000

Phases, each measured on its own (requests/s, p50/p95/p99, errors):
  spike         every participant (already signed in: the lobby opens before the round) presses
                开始 within the same 2 seconds and has the quiz page (rps: participants/s)
  trickle       with --trickle N, N more people press 开始 spread over --trickle-seconds
  capacity      closed loop: --connections clients save answers back to back
  floor         the same closed loop against benchmarks/floor_app.py (same gunicorn settings,
                same database); floor_paced: the floor under answer_paced's load
  answer_paced  each participant a wrk connection, through nginx, saving every --save-interval
                seconds on average; answer_open_loop: the same from the Python client (tracked)
  rush          every participant submits within the final 10 seconds
  submit_capacity  with --trickle, the trickle's attempts submitted back to back by --connections
                clients (a closed loop like the floor's: the rush offers at most about 200/s)
  logins        --logins sign-ins through the login form, with the production password hash
`versus_floor` states each target as measured / floor / ratio against this run's floor.
Afterwards the database is checked: every acknowledged answer stored (0 missing), every attempt
finalized (0 unfinalized), each exactly its prepared paper. All traffic goes to 127.0.0.1; every
loop is bounded in count and time. Results are printed and written as JSON (--out).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.harness import (ROOT, SECRET, USER_AGENT, Participant, Proxy, Server, database_url, seed,  # noqa: E402
                                summary)
from benchmarks.round_checks import logins, verify  # noqa: E402,F401  (also imported from here)
from benchmarks.spy import PhaseProfile  # noqa: E402
from benchmarks.wrk_load import WRK_REPORT, _ms, wrk_closed_loop  # noqa: E402,F401  (also imported from here)

SECTIONS = [{"type": "single", "count": 20}, {"type": "multiple", "count": 10},
            {"type": "judge", "count": 15}, {"type": "fill", "count": 5}]
PAPER = re.compile(r'<script type="application/json" id="paper">(.*?)</script>', re.S)


class Load:
    def __init__(self, base: str, http: aiohttp.ClientSession):
        self.base, self.http = base, http

    async def call(self, person: Participant, method: str, path: str, **kwargs):
        """One request as `person`; returns (status, seconds, text). Keeps the session cookie."""
        headers = {"Cookie": f"session={person.cookie}", "User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
        started = time.perf_counter()
        async with self.http.request(method, self.base + path, headers=headers, allow_redirects=False, **kwargs) as reply:
            text = await reply.text()
            elapsed = time.perf_counter() - started
            cookie = reply.cookies.get("session")
            if cookie is not None and cookie.value:
                person.cookie = cookie.value
            return reply.status, elapsed, text, reply.headers.get("Location", "")


def answer_for(item: tuple, rng: random.Random):
    position, qtype, options, blanks = item
    letters = [chr(ord("A") + i) for i in range(options)]
    if qtype == "single":
        return rng.choice(letters)
    if qtype == "multiple":
        return sorted(rng.sample(letters, rng.randint(1, len(letters))))
    if qtype == "judge":
        return rng.random() < 0.5
    return [rng.choice(["监察委员会", "人民代表大会", "五年", "党组"]) for _ in range(blanks)]


async def spike(load: Load, people: list[Participant], round_id: int, window: float) -> dict:
    """Everyone in `people` presses 开始 at a random moment within `window` seconds. 开始 answers
    with the quiz page (an attempt started now) or redirects to it (then the page is a second
    request). "start" times each participant from pressing 开始 to having the page, and its
    rps is participants started per second; "quiz_page" is the second request where there
    was one."""
    latencies, page_latencies, errors = [], [], 0
    begin = time.perf_counter()

    async def one(person: Participant) -> None:
        nonlocal errors
        await asyncio.sleep(random.uniform(0, window))
        try:
            status, took, page, location = await load.call(person, "POST", f"/rounds/{round_id}/start",
                                                           data={"csrf_token": person.csrf})
            if status in (302, 303) and re.search(r"/attempts/\d+$", location):
                status, page_took, page, _ = await load.call(person, "GET", location)
                page_latencies.append(page_took)
                took += page_took
        except (aiohttp.ClientError, asyncio.TimeoutError):
            errors += 1
            return
        match = re.search(r'data-page-url="/attempts/(\d+)"', page) if status == 200 else None
        if not match:
            errors += 1
            if errors == 1:
                print(f"first failed start: HTTP {status} {location}", file=sys.stderr)
            return
        latencies.append(took)
        person.attempt_id = int(match.group(1))
        person.csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
        for item in json.loads(PAPER.search(page).group(1)):
            person.items.append((item["position"], item["type"], len(item["options"]) if item["type"] != "judge" else 2,
                                 len(item["stem_parts"]) - 1))
    await asyncio.gather(*(one(p) for p in people))
    seconds = time.perf_counter() - begin
    return {"start": summary(latencies, errors, seconds), "quiz_page": summary(page_latencies, 0, seconds)}


async def save(load: Load, person: Participant, rng: random.Random, latencies: list, counters: dict,
               track: bool = True) -> None:
    item = rng.choice(person.items)
    value = answer_for(item, rng)
    try:
        status, took, _, _ = await load.call(person, "POST", f"/attempts/{person.attempt_id}/answers",
                                             json={"position": item[0], "response": value, "flagged": False},
                                             headers={"X-CSRFToken": person.csrf})
    except (aiohttp.ClientError, asyncio.TimeoutError):
        counters["errors"] += 1
        return
    if status == 200:
        if track:
            person.acked[item[0]] = value
        latencies.append(took)
    else:
        counters["errors"] += 1


async def page_weight(load: Load, person: Participant) -> dict:
    """Bytes a phone downloads for the quiz page: the HTML and every file it links (all local)."""
    status, _, page, _ = await load.call(person, "GET", f"/attempts/{person.attempt_id}")
    sizes = {"html": len(page.encode("utf-8"))}
    for path in re.findall(r'(?:href|src)="(/static/[^"]+)"', page):
        async with load.http.get(load.base + path) as reply:
            sizes[path] = len(await reply.read())
    external = re.findall(r'(?:href|src)="(https?:)?//', page)
    return {"total": sum(sizes.values()), "files": sizes, "other_hosts": len(external)}


async def answer_open_loop(load: Load, people: list[Participant], interval: float, seconds: float) -> dict:
    latencies, counters = [], {"errors": 0}
    begin = time.perf_counter()

    async def one(person: Participant, rng: random.Random) -> None:
        while True:
            await asyncio.sleep(rng.expovariate(1 / interval))
            if time.perf_counter() - begin > seconds:
                return
            await save(load, person, rng, latencies, counters)
    await asyncio.gather(*(one(p, random.Random(p.user_id)) for p in people if p.attempt_id))
    return summary(latencies, counters["errors"], time.perf_counter() - begin)


async def closed_loop(make_request, connections: int, seconds: float) -> dict:
    latencies, counters = [], {"errors": 0}
    begin = time.perf_counter()

    async def worker(rng: random.Random) -> None:
        while time.perf_counter() - begin < seconds:
            await make_request(rng, latencies, counters)
    await asyncio.gather(*(worker(random.Random(i)) for i in range(connections)))
    return summary(latencies, counters["errors"], time.perf_counter() - begin)


def save_requests(ready: list[Participant], rng: random.Random) -> list[tuple[str, str, str]]:
    """Every participant's autosave of every question as wrk requests: (path, headers, body)."""
    return [(f"/attempts/{p.attempt_id}/answers", f"Cookie: session={p.cookie}|X-CSRFToken: {p.csrf}",
             json.dumps({"position": item[0], "response": answer_for(item, rng), "flagged": False}))
            for p in ready for item in p.items]


async def rush(load: Load, people: list[Participant], window: float) -> dict:
    latencies, errors = [], 0
    begin = time.perf_counter()

    async def one(person: Participant) -> None:
        nonlocal errors
        await asyncio.sleep(random.uniform(0, window))
        try:
            status, took, _, location = await load.call(person, "POST", f"/attempts/{person.attempt_id}/submit",
                                                        data={"csrf_token": person.csrf})
        except (aiohttp.ClientError, asyncio.TimeoutError):
            errors += 1
            return
        if status == 302 and location.endswith("/result"):
            latencies.append(took)
        else:
            errors += 1
    await asyncio.gather(*(one(p) for p in people if p.attempt_id))
    return summary(latencies, errors, time.perf_counter() - begin)


async def submit_closed_loop(load: Load, people: list[Participant], connections: int) -> dict:
    """`connections` clients submitting these people's attempts back to back, each attempt once:
    the server's submission capacity, a closed loop like the floor's (the rush itself offers at
    most 2,000 in 10 s, about 200/s, which a fast floor's 0.3 can exceed)."""
    queue, latencies, errors = [p for p in people if p.attempt_id], [], 0
    begin = time.perf_counter()

    async def worker() -> None:
        nonlocal errors
        while queue:
            person = queue.pop()
            try:
                status, took, _, location = await load.call(person, "POST", f"/attempts/{person.attempt_id}/submit",
                                                            data={"csrf_token": person.csrf})
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1
                continue
            if status == 302 and location.endswith("/result"):
                latencies.append(took)
            else:
                errors += 1
    await asyncio.gather(*(worker() for _ in range(connections)))
    return summary(latencies, errors, time.perf_counter() - begin)


def paced_through_proxy(args, ports: tuple[int, int], bodies, connections: int) -> dict:
    """wrk with one connection per participant thinking `save_interval` between saves, through
    nginx on `ports` (harness.Proxy): the paced phase, for the floor and for the app alike."""
    proxy = Proxy(*ports)
    try:
        return wrk_closed_loop(proxy.base, bodies, connections, args.answer_seconds,
                               think_ms=args.save_interval * 1000, threads=2)
    finally:
        proxy.stop()

async def floor_phases(args, url: str, http, ready: list[Participant], use_wrk: bool, paced: bool) -> dict:
    """The floor (benchmarks/floor_app.py, same gunicorn settings and database): closed loop
    like `capacity`, and with `paced` the same paced load as `answer_paced` (same nginx, the
    same number of connections and think times), so the round's figures can be stated
    against the floor of the same run."""
    floor = Server("benchmarks.floor_app:create_app()", url, args.port + 1, args.workers)
    result = {}
    try:
        if use_wrk:
            bodies = [("/save", f"Cookie: session={p.cookie}", json.dumps({"position": n, "response": "A"}))
                      for p in ready for n in range(1, args.questions + 1)]
            result["floor"] = wrk_closed_loop(floor.base, bodies, args.connections, args.capacity_seconds)
            if paced:
                result["floor_paced"] = paced_through_proxy(args, (args.port + 1, args.port + 4), bodies, len(ready))
        else:
            floor_load = Load(floor.base, http)

            async def floor_save(rng, latencies, counters):
                status, took, _, _ = await floor_load.call(rng.choice(ready), "POST", "/save",
                                                           json={"position": rng.randint(1, 50), "response": "A"})
                if status == 200:
                    latencies.append(took)
                else:
                    counters["errors"] += 1
            result["floor"] = await closed_loop(floor_save, args.connections, args.capacity_seconds)
    finally:
        floor.stop()
    return result


def versus_floor(result: dict) -> dict:
    """Issue 13's figures as measured / floor / ratio, each against the floor of this run:
    participants started per second in the spike (target ratio ≥ 0.3), autosave capacity,
    rush submissions per second (≥ 0.3), with --trickle the closed-loop submission capacity
    (the trickle's attempts, `submit_closed_loop`), and paced answering p99 against the paced
    floor's p99 (≤ 1.5)."""
    floor = result["floor"]["rps"]
    rows = {"spike_participants_per_s": (result["spike"]["start"]["rps"], floor),
            "capacity_rps": (result["capacity"]["rps"], floor),
            "rush_submissions_per_s": (result["rush"]["rps"], floor)}
    if "submit_capacity" in result:
        rows["submit_capacity_per_s"] = (result["submit_capacity"]["rps"], floor)
    if "answer_paced" in result and "floor_paced" in result:
        rows["paced_p99_ms"] = (result["answer_paced"]["p99_ms"], result["floor_paced"]["p99_ms"])
    return {name: {"measured": m, "floor": f, "ratio": round(m / f, 3) if f else None} for name, (m, f) in rows.items()}


async def warm(load: Load, people: list[Participant], workers: int) -> None:
    """The lobby, loaded by a few people before 开始 (the lobby opens before the round): each
    worker has served a request, as a server that has been up since the lobby opened has."""
    for person in people[:workers * 4]:
        await load.call(person, "GET", "/lobby")


async def run(args) -> dict:
    url = database_url(args.db)
    t = time.perf_counter()
    late_count = getattr(args, "trickle", 0)
    round_id, everyone = seed(url, args.participants + late_count, SECTIONS if args.questions == 50 else
                              [{"type": "judge", "count": args.questions}])
    people, late = everyone[:args.participants], everyone[args.participants:]
    result = {"db": args.db, "participants": args.participants, "questions": args.questions,
              "workers": args.workers, "seed_seconds": round(time.perf_counter() - t, 1),
              "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    from benchmarks.floor_app import create_app as floor_app, db as floor_db
    with floor_app(url, SECRET).app_context():  # the floor's two tables, in the same database
        floor_db.create_all()
        from benchmarks.floor_app import FloorUser
        floor_db.session.add_all([FloorUser(id=p.user_id, name=str(p.user_id)) for p in everyone])
        floor_db.session.commit()
    connector = aiohttp.TCPConnector(limit=args.max_connections, force_close=True)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    server = Server("quizapp:create_app()", url, args.port, args.workers)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    paced = use_wrk and shutil.which("nginx") is not None
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         cookie_jar=aiohttp.DummyCookieJar()) as http:
            load = Load(server.base, http)
            await warm(load, everyone, args.workers)
            profile = getattr(args, "profile_dir", None)  # py-spy on the workers (benchmarks.spy)
            with PhaseProfile(server, profile, "spike", args.spike_window + 12):
                result["spike"] = await spike(load, people, round_id, args.spike_window)
            if late:  # the lobby opened early: these people press 开始 over a minute, not at once
                with PhaseProfile(server, profile, "trickle", args.trickle_seconds):
                    result["trickle"] = await spike(load, late, round_id, args.trickle_seconds)
            result["quiz_page_bytes"] = await page_weight(load, people[0])
            ready = [p for p in people if p.attempt_id]
            rng = random.Random(1)
            # Capacity first: the tracked answering phase below then writes each answer last.
            if use_wrk:
                bodies = save_requests(ready, rng)
                result["capacity"] = wrk_closed_loop(server.base, bodies, args.connections, args.capacity_seconds)
            else:
                async def quiz_save(rng, latencies, counters):
                    await save(load, rng.choice(ready), rng, latencies, counters, track=False)
                result["capacity"] = await closed_loop(quiz_save, args.connections, args.capacity_seconds)
            result["logins"] = await logins(server.base, args.logins, 4) if args.logins else None
            server.stop()
            result.update(await floor_phases(args, url, http, ready, use_wrk, paced))
            server = Server("quizapp:create_app()", url, args.port + 2, args.workers)
            load.base = server.base
            for person in ready[:args.workers * 4]:  # warm like the floor, which the closed loop warmed
                await save(load, person, rng, [], {"errors": 0}, track=False)
            if paced:
                # The measured realistic round: every participant a wrk connection that thinks
                # between saves, through nginx as in production (see harness.Proxy).
                bodies = save_requests(ready, rng)
                result["answer_paced"] = paced_through_proxy(args, (args.port + 2, args.port + 3), bodies, len(ready))
                await asyncio.sleep(3)  # let saves still in flight land before the tracked answers
            # Then the Python client, which remembers each acknowledged answer for the check below.
            result["answer_open_loop"] = await answer_open_loop(load, people, args.save_interval, args.answer_seconds)
            with PhaseProfile(server, profile, "rush", args.rush_window + 5):
                result["rush"] = await rush(load, people, args.rush_window)
            if late:  # their attempts end finalized like everyone's, as fast as the server takes them
                result["submit_capacity"] = await submit_closed_loop(load, late, args.connections)
    finally:
        server.stop()
    result["capacity_vs_floor"] = round(result["capacity"]["rps"] / result["floor"]["rps"], 3) if result["floor"]["rps"] else None
    result["versus_floor"] = versus_floor(result)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["verify"] = verify(url, everyone)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="quizapp round under load (HTTP, gunicorn, loopback only)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--participants", type=int, default=356)
    parser.add_argument("--questions", type=int, default=50, help="50 gives the 20/10/15/5 paper; other values all 判断")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--spike-window", type=float, default=2.0)
    parser.add_argument("--trickle", type=int, default=0,
                        help="this many more participants press 开始 spread over --trickle-seconds, after the spike")
    parser.add_argument("--trickle-seconds", type=float, default=60.0)
    parser.add_argument("--save-interval", type=float, default=2.0, help="mean seconds between one person's saves")
    parser.add_argument("--answer-seconds", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--capacity-seconds", type=float, default=15.0)
    parser.add_argument("--rush-window", type=float, default=10.0)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--max-connections", type=int, default=1000)
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--timeout", type=float, default=120.0, help="a request slower than this counts as an error")
    parser.add_argument("--python-client", action="store_true", help="measure capacity with the Python client, not wrk")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--profile-dir", help="py-spy the workers during spike, trickle and rush; raw stacks here")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    result = {"commit": commit, **asyncio.run(run(args))}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    for name, row in result["versus_floor"].items():  # measured / floor / ratio, for RESULTS.md
        print(f"{name}: {row['measured']} / {row['floor']} / {row['ratio']}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.profile_dir:
        from benchmarks.spy import flame_summary
        for phase in ("spike", "trickle", "rush"):
            files = sorted(Path(args.profile_dir).glob(f"{phase}-*.txt"))
            if files:
                print(phase, json.dumps(flame_summary(files), ensure_ascii=False, indent=1), file=sys.stderr)
    verified = result["verify"]
    problems = (verified["acknowledged_answers_missing"] + verified["attempts_unfinalized"]
                + verified["attempts_not_as_prepared"])
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
