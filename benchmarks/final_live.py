"""The live 决赛 under load: the socket server in its own process, 10 team devices and 500
big-screen (audience) connections on loopback, python-socketio AsyncClients in this process.

1. Press-to-big-screen latency: a team presses → every connected big screen has received the
   state showing the lockout (someone pressed). Per trial the time until the LAST of the 500
   screens has it; p50/p99 over the trials (target p99 ≤ 100 ms).
2. Fairness: two teams press 5 ms apart (which one first is random per trial); the server's
   press order must put the earlier press first in every trial (target 1,000 of 1,000). The
   audience is cut to 10 screens here, so that 1,000 questions × 7 steps do not take an hour.

    python benchmarks/final_live.py --db sqlite [--audience 500] [--latency-trials 200] [--order-trials 1000]
    python benchmarks/final_live.py --db postgres --redis redis://127.0.0.1:6379/14

Times include this client process's own work (510 clients on the same 2 cores as the server).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.harness import PG_ADMIN, SECRET  # noqa: E402

TEAMS = 10
ADMIN_PASSWORD = "bench-admin-password"


def database_url(kind: str) -> str:
    """A fresh database of this benchmark's own (other benchmarks empty theirs when they start)."""
    if kind == "sqlite":
        import shutil
        import tempfile

        folder = Path(tempfile.gettempdir()) / "quizapp-bench-final"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return f"sqlite:///{folder / 'bench.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS quizapp_bench_final WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE quizapp_bench_final"))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/quizapp_bench_final"


def seed(url: str, slots: int) -> dict:
    """10 teams of one, a 决赛 team round and a final with `slots` 抢答 questions."""
    os.environ.update(QUIZAPP_DATABASE_URL=url, QUIZAPP_SECRET_KEY=SECRET)
    from flask_migrate import upgrade

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models import Competition, FinalQuestion, Unit, User
    from quizapp.services.accounts import hash_password
    from quizapp.services.banks import import_banks
    from quizapp.services.final import create_final, slips
    from quizapp.services.rounds import RoundSpec, create_round
    from quizapp.services.teams import form_teams
    from quizapp.clock import utcnow
    from datetime import timedelta

    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        import_banks([ROOT / "tests" / "data" / "banks" / "sample.yaml"])
        db.session.add(User(username="admin", name="主持人", role="admin", password_hash=hash_password(ADMIN_PASSWORD)))
        for n in range(TEAMS):
            unit = Unit(name=f"单位{n:02d}")
            db.session.add(unit)
            db.session.add(User(username=f"p{n:02d}", name=f"队员{n}", role="participant", unit=unit,
                                password_hash=hash_password("x" * 10)))
        competition = Competition(name="压测竞赛")
        db.session.add(competition)
        db.session.commit()
        round_ = create_round(RoundSpec(competition_id=competition.id, stage="决赛", name="决赛", opens_at=utcnow(),
                                        closes_at=utcnow() + timedelta(hours=3), time_limit_minutes=60,
                                        sections=[{"type": "judge", "count": 1}], team_size=3, team_scoring="shared"))
        form_teams(round_)
        db.session.commit()
        final = create_final(round_, {"required": {"count_per_team": 0}, "buzzer": {"count": 1, "press_seconds": 600},
                                      "risk": {"count_per_team": 0}, "tiebreak": {"count": 0},
                                      "tiebreak_risk": {"count": 0}}, seed="bench")
        first = final.questions[0]
        for position in range(1, slots):  # the same question again: drawing is not what is measured
            final.questions.append(FinalQuestion(position=position, part="buzzer", question_id=first.question_id,
                                                 option_order=first.option_order))
        db.session.commit()
        return {"final": final.id, "token": final.screen_token, "teams": [ft.id for ft in final.teams],
                "slips": slips(final)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, redis: str, mode: str = "gevent") -> subprocess.Popen:
    env = dict(os.environ, QUIZAPP_DATABASE_URL=url, QUIZAPP_SECRET_KEY=SECRET)
    env.pop("QUIZAPP_REDIS_URL", None)
    if redis:
        env["QUIZAPP_REDIS_URL"] = redis
    process = subprocess.Popen([sys.executable, "-m", "quizapp.cli", "run", "--port", str(port), "--mode", mode], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


async def sign_in(http, base: str, username: str, password: str, page: str) -> tuple[str, str]:
    """(Cookie header, the page's CSRF token) for a signed-in device."""
    import aiohttp

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        html = await (await session.get(f"{base}/login")).text()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        await session.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": token})
        html = await (await session.get(f"{base}{page}")).text()
        csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)
        cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
    return cookie, csrf


class Device:
    """One socket connection and the last state it received (with the time it arrived)."""

    def __init__(self):
        import socketio

        self.sio = socketio.AsyncClient(reconnection=False)
        self.state: dict | None = None
        self.first_press_at: float | None = None
        self.changed = asyncio.Event()
        self.sio.on("state", self._on_state, namespace="/final")
        self.sio.on("delta", self._on_delta, namespace="/final")

    async def _on_delta(self, delta):
        """A press's delta onto the state before it, as the pages' client does (or ask again)."""
        if self.state is not None and delta["seq"] == self.state["seq"] + 1:
            await self._on_state({**self.state, **delta})
        else:
            await self.sio.emit("sync", {}, namespace="/final")

    async def _on_state(self, state):
        self.state = state
        if state["presses"]["order"] and self.first_press_at is None:
            self.first_press_at = time.perf_counter()
        self.changed.set()

    async def connect(self, base: str, auth: dict, cookie: str = "", tries: int = 5):
        for attempt in range(tries):  # a refused handshake while the hall fills is tried again, as a browser would
            try:
                await self.sio.connect(base, namespaces=["/final"], transports=["websocket"], auth=auth,
                                       headers={"Cookie": cookie} if cookie else {}, wait_timeout=30)
                return
            except Exception:  # noqa: BLE001 — socketio.exceptions.ConnectionError and socket errors
                if attempt == tries - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    async def until(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while not (self.state and predicate(self.state)):
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("state not reached")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return self.state


async def run(base: str, info: dict, audience: int, latency_trials: int, order_trials: int) -> dict:
    screens = []
    for start in range(0, audience, 25):  # connect in batches, as a hall fills
        batch = [Device() for _ in range(min(25, audience - start))]
        await asyncio.gather(*(d.connect(base, {"screen": info["token"]}) for d in batch))
        screens.extend(batch)
    host = Device()  # after the hall has filled: its connection is the fresh one
    cookie, host_csrf = await sign_in(None, base, "admin", ADMIN_PASSWORD, f"/admin/finals/{info['final']}/console")
    await host.connect(base, {"csrf": host_csrf, "final": info["final"]}, cookie)
    teams = []
    for slip in info["slips"]:
        cookie, csrf = await sign_in(None, base, slip["username"], slip["password"], "/buzzer")
        device = Device()
        await device.connect(base, {"csrf": csrf}, cookie)
        teams.append((device, csrf))

    async def act(kind, data=None):
        seq = host.state["seq"]
        await host.sio.emit("act", {"csrf": host_csrf, "kind": kind, "data": data or {}}, namespace="/final")
        await host.until(lambda s: s["seq"] > seq)

    async def caught_up(devices):
        seq = host.state["seq"]
        await asyncio.gather(*(d.until(lambda s: s["seq"] >= seq, 30) for d in devices))

    def live(devices):
        """Screens still connected (a loaded machine may drop one on a missed ping; counted)."""
        return [d for d in devices if d.sio.connected]

    loads = []

    async def sample_load():
        while True:
            loads.append(os.getloadavg()[0])
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample_load())
    await act("begin")
    latencies, per_screen = [], []
    for trial in range(latency_trials):
        await act("open"); await act("show"); await act("start")
        screens = live(screens)
        await caught_up(screens)
        for device in screens:
            device.first_press_at = None
        presser, csrf = teams[trial % TEAMS]
        sent = time.perf_counter()
        await presser.sio.emit("press", {"csrf": csrf, "team": info["teams"][trial % TEAMS]}, namespace="/final")
        await asyncio.gather(*(d.until(lambda s: bool(s["presses"]["order"]), 30) for d in screens))
        arrivals = [d.first_press_at - sent for d in screens]
        latencies.append(max(arrivals) * 1000)
        per_screen.extend(a * 1000 for a in arrivals)
        await act("judge", {"correct": True}); await act("reveal")
        if (trial + 1) % 20 == 0:
            print(f"latency trial {trial + 1}: last {latencies[-1]:.1f} ms", flush=True)
    still = len(live(screens))
    for device in screens[10:]:
        await device.sio.disconnect()
    screens = screens[:10]
    correct, rng = 0, random.Random(5)
    for trial in range(order_trials):
        await act("open"); await act("show"); await act("start")
        a, b = rng.sample(range(TEAMS), 2)
        await teams[a][0].sio.emit("press", {"csrf": teams[a][1], "team": info["teams"][a]}, namespace="/final")
        await asyncio.sleep(0.005)
        await teams[b][0].sio.emit("press", {"csrf": teams[b][1], "team": info["teams"][b]}, namespace="/final")
        state = await host.until(lambda s: len(s["presses"]["order"]) == 2)
        correct += [p["team"] for p in state["presses"]["order"]] == [info["teams"][a], info["teams"][b]]
        await act("judge", {"correct": True}); await act("reveal")
    sampler.cancel()
    for device in [host, *(d for d, _ in teams), *screens]:
        await device.sio.disconnect()
    return {"latencies": latencies, "per_screen": per_screen, "correct": correct, "still": still, "loads": loads}


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "quizapp", "benchmarks"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
    return head + ("+uncommitted" if dirty else "")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--redis", default="", help="Redis URL: the server uses it as its message queue")
    parser.add_argument("--audience", type=int, default=500)
    parser.add_argument("--mode", choices=("gevent", "threading"), default="gevent", help="the server's mode (quizapp run --mode)")
    parser.add_argument("--latency-trials", type=int, default=200)
    parser.add_argument("--order-trials", type=int, default=1000)
    args = parser.parse_args()
    url = database_url(args.db)
    info = seed(url, args.latency_trials + args.order_trials)
    port = free_port()
    server = start_server(url, port, args.redis, args.mode)
    load = os.getloadavg()
    try:
        started = time.monotonic()
        result = asyncio.run(run(f"http://127.0.0.1:{port}", info, args.audience, args.latency_trials, args.order_trials))
    finally:
        server.kill()
    lat = result["latencies"]
    print(f"server mode {args.mode}, database {args.db}, message queue {'Redis' if args.redis else 'none'}, {TEAMS} teams, "
          f"{args.audience} big screens ({result['still']} still connected at the end), "
          f"{time.monotonic() - started:.0f} s, load average before {load[0]:.1f}, during "
          f"{min(result['loads']):.1f}–{max(result['loads']):.1f}, commit {commit()}")
    print(f"press → every big screen shows the lockout ({len(lat)} trials): p50 {statistics.median(lat):.1f} ms, "
          f"p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms")
    print(f"press → one big screen ({len(result['per_screen'])} deliveries): p50 {statistics.median(result['per_screen']):.1f} ms, "
          f"p99 {percentile(result['per_screen'], 99):.1f} ms")
    print(f"two presses 5 ms apart ordered correctly: {result['correct']} of {args.order_trials}")


if __name__ == "__main__":
    main()
