"""The live 决赛 under load: the socket server in its own process, 10 team devices and 500
big-screen (audience) connections on loopback.

The measuring side is kept out of the way: the 500 screens are light raw Engine.IO clients
(benchmarks/final_live_clients.py: no Socket.IO client library, no decoding of what they
receive) spread over --screen-processes processes with their own event loops; each stamps a
frame with CLOCK_MONOTONIC (one clock for every process of the machine) as soon as it reads it.
Team devices are raw clients of this process: a press is stamped just after its frame went to
the kernel. The host is a python-socketio client (it needs the state). The server's own press
stamp (the event's mono_ns, read back from the log) splits each figure into send → server
read and server read → screens.

1. Press-to-big-screen latency: a team presses → every connected big screen has received the
   message showing the lockout (someone pressed). Per trial the time until the LAST of the 500
   screens has it; p50/p99 over the trials (target p99 ≤ 100 ms). A press is sent once every
   device has received 开始 (as no hand presses sooner).
2. Fairness: two teams press 5 ms apart (which one first is random per trial; the second frame
   is sent 5 ms after the first one's send returned, by a busy wait); the server's press order
   must put the earlier press first in every trial (target 1,000 of 1,000). The audience is cut
   to --order-audience screens (default 10), so that 1,000 questions × 7 steps do not take an hour.

    python benchmarks/final_live.py --db sqlite [--audience 500] [--latency-trials 200] [--order-trials 1000]
    python benchmarks/final_live.py --db postgres --redis redis://127.0.0.1:6379/14

All processes share the machine's cores with the server.
"""
from __future__ import annotations

import argparse
import asyncio
import json
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


async def run(base: str, info: dict, args) -> dict:
    import multiprocessing

    import aiohttp

    from benchmarks.final_live_clients import Raw, screen_worker

    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    workers = []
    shares = [args.audience // args.screen_processes + (i < args.audience % args.screen_processes)
              for i in range(args.screen_processes)]
    for share in shares:
        ours, theirs = context.Pipe()
        process = context.Process(target=screen_worker, args=(base, info["token"], share, theirs), daemon=True)
        process.start()
        workers.append((process, ours))

    def ask(conn, command, arg=None):
        if command is not None:
            conn.send((command, arg))
        if not conn.poll(120):
            raise SystemExit(f"a screen process did not answer {command}")
        return conn.recv()

    async def each(command, arg=None):
        return await asyncio.gather(*(loop.run_in_executor(None, ask, conn, command, arg) for _, conn in workers))

    connected = sum(await each(None))
    host = Device()  # after the hall has filled: its connection is the fresh one
    cookie, host_csrf = await sign_in(None, base, "admin", ADMIN_PASSWORD, f"/admin/finals/{info['final']}/console")
    await host.connect(base, {"csrf": host_csrf, "final": info["final"]}, cookie)
    session = aiohttp.ClientSession()
    teams = []
    for slip in info["slips"]:
        cookie, csrf = await sign_in(None, base, slip["username"], slip["password"], "/buzzer")
        device = Raw(session, base, {"csrf": csrf}, cookie, record=False)
        await device.connect()
        teams.append((device, csrf))

    async def act(kind, data=None):
        seq = host.state["seq"]
        await host.sio.emit("act", {"csrf": host_csrf, "kind": kind, "data": data or {}}, namespace="/final")
        await host.until(lambda s: s["seq"] > seq)

    async def caught_up():
        """Every screen and team device has received the host's last step."""
        seq = host.state["seq"]
        while any(d.seq < seq for d, _ in teams):
            await asyncio.sleep(0.0005)
        return sum(await each("wait", seq))

    loads = []

    async def sample_load():
        while True:
            loads.append(os.getloadavg()[0])
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample_load())
    await act("begin")
    latency = []  # (press seq, sent ns, last screen ns, every screen's ns)
    for trial in range(args.latency_trials):
        await act("open"); await act("show"); await act("start")
        await caught_up()
        presser, csrf = teams[trial % TEAMS]
        seq = host.state["seq"] + 1
        sent = await presser.send("press", {"csrf": csrf, "team": info["teams"][trial % TEAMS]})
        receipts = [t for share in await each("receipts", seq) for t in share]
        missing = sum(t is None for t in receipts)
        await host.until(lambda s: s["seq"] >= seq)  # the host's next step must follow the press
        receipts = [t for t in receipts if t is not None]
        latency.append((seq, sent, max(receipts), receipts, missing))
        await act("judge", {"correct": True}); await act("reveal")
        if (trial + 1) % 10 == 0:
            print(f"latency trial {trial + 1}: last screen {(max(receipts) - sent) / 1e6:.1f} ms", flush=True)
    still = sum(await each("wait", host.state["seq"]))
    remaining = args.order_audience
    for share, (_, conn) in zip(shares, workers):  # the first screens of each process, up to --order-audience
        remaining -= await loop.run_in_executor(None, ask, conn, "keep", min(remaining, share))
    order, rng = [], random.Random(5)
    for trial in range(args.order_trials):
        await act("open"); await act("show"); await act("start")
        await caught_up()
        a, b = rng.sample(range(TEAMS), 2)
        first = json.dumps(["press", {"csrf": teams[a][1], "team": info["teams"][a]}])
        second = json.dumps(["press", {"csrf": teams[b][1], "team": info["teams"][b]}])
        await teams[a][0].ws.send_str("42/final," + first)
        sent_a = time.monotonic_ns()
        while time.monotonic_ns() - sent_a < 5_000_000:  # a busy wait: asyncio.sleep may oversleep or wake late
            pass
        sent_b = time.monotonic_ns()
        await teams[b][0].ws.send_str("42/final," + second)
        state = await host.until(lambda s: len(s["presses"]["order"]) == 2)
        got = [p["team"] for p in state["presses"]["order"]]
        order.append((trial, info["teams"][a], info["teams"][b], sent_a, sent_b, got == [info["teams"][a], info["teams"][b]]))
        await act("judge", {"correct": True}); await act("reveal")
    sampler.cancel()
    await each("stop")
    for device, _ in teams:
        await device.close()
    await session.close()
    await host.sio.disconnect()
    for process, _ in workers:
        process.join(10)
    return {"latency": latency, "order": order, "still": still, "connected": connected, "loads": loads}


def server_stamps(url: str, final_id: int) -> list[tuple[int, int, int]]:
    """(seq, team, server monotonic ns) of every press in the final's log."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, data, mono_ns FROM final_event WHERE final_id = :f AND kind = 'press' "
                                       "ORDER BY seq"), {"f": final_id}).all()
    engine.dispose()
    return [(seq, (json.loads(data) if isinstance(data, str) else data)["team"], mono) for seq, data, mono in rows]


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


def _stats(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.1f} ms, p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--redis", default="", help="Redis URL: the server uses it as its message queue")
    parser.add_argument("--audience", type=int, default=500)
    parser.add_argument("--screen-processes", type=int, default=4, help="processes the big screens are spread over")
    parser.add_argument("--order-audience", type=int, default=10, help="screens kept for the ordering trials")
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
        result = asyncio.run(run(f"http://127.0.0.1:{port}", info, args))
    finally:
        server.kill()
    stamps = {seq: (team, mono) for seq, team, mono in server_stamps(url, info["final"])}
    lat = [(last - sent) / 1e6 for _, sent, last, _, _ in result["latency"]]
    one = [(t - sent) / 1e6 for _, sent, _, receipts, _ in result["latency"] for t in receipts]
    to_server = [(stamps[seq][1] - sent) / 1e6 for seq, sent, _, _, _ in result["latency"]]
    from_server = [(last - stamps[seq][1]) / 1e6 for seq, _, last, _, _ in result["latency"]]
    missing = sum(m for *_, m in result["latency"])
    print(f"server mode {args.mode}, database {args.db}, message queue {'Redis' if args.redis else 'none'}, {TEAMS} teams, "
          f"{result['connected']} big screens over {args.screen_processes} processes ({result['still']} still connected "
          f"after the latency trials), {time.monotonic() - started:.0f} s, load average before {load[0]:.1f}, during "
          f"{min(result['loads']):.1f}–{max(result['loads']):.1f}, commit {commit()}")
    print(f"press → every big screen has the lockout ({len(lat)} trials): {_stats(lat)}"
          + (f" ({missing} screen receipts missing)" if missing else ""))
    print(f"  of which press sent → server's receive stamp: {_stats(to_server)}; stamp → last screen: {_stats(from_server)}")
    print(f"press → one big screen ({len(one)} deliveries): {_stats(one)}")
    correct = sum(ok for *_, ok in result["order"])
    gaps, wrong = [], []
    by_seq = sorted(stamps.items())[len(result["latency"]):]  # the ordering trials' presses, two per trial
    for (trial, a, b, sent_a, sent_b, ok), pair in zip(result["order"], zip(by_seq[0::2], by_seq[1::2])):
        mono = {team: m for _, (team, m) in pair}
        server_gap = (mono[b] - mono[a]) / 1e6
        gaps.append(server_gap)
        if not ok:
            wrong.append(f"trial {trial}: sent {(sent_b - sent_a) / 1e6:.2f} ms apart, server stamps {server_gap:+.2f} ms, "
                         f"first read {(min(mono.values()) - sent_a) / 1e6:.1f} ms after the first send")
    sent_gaps = [(sb - sa) / 1e6 for _, _, _, sa, sb, _ in result["order"]]
    print(f"two presses 5 ms apart ordered correctly: {correct} of {args.order_trials} "
          f"(sent gaps {min(sent_gaps):.2f}–{max(sent_gaps):.2f} ms; the server's stamps {min(gaps):+.2f} to {max(gaps):+.2f} ms "
          f"apart, p1 {percentile(gaps, 1):+.2f} ms)")
    for line in wrong:
        print("  misordered:", line)


if __name__ == "__main__":
    main()
